"""The sessions sidebar: search by name, rename, attach and detach a connection, delete — each checked again on a
freshly loaded page, so what the list shows is what the coordinator keeps, not only the page's own state."""
import time

from selenium.webdriver.common.keys import Keys

from scenario_chat import new_session


def open_session(ctx, name):
    """Clicks the session named name in the sidebar and waits until it is the open one."""
    def click_it(_driver):
        # Found and clicked in one step: the list re-renders whenever the API answers.
        item = next((e for e in ctx.find("session-item") if e.get_attribute("data-name") == name), None)
        if item is None:
            return False
        item.click()
        return True
    ctx.wait(click_it, "session %r in the list" % name)
    ctx.wait(lambda d: next((e for e in ctx.find("session-item")
                             if e.get_attribute("data-name") == name and e.get_attribute("aria-current") == "true"), None),
             "session %r open" % name)


# Read in one script: the list re-renders as the API answers, and an element found a moment before can be gone.
_NAMES = """return Array.from(document.querySelectorAll(arguments[0]))
                  .filter((e) => e.offsetParent !== null).map((e) => e.dataset.name).sort();"""


def attached(ctx):
    return ctx.driver.execute_script(_NAMES, '[data-testid="session-db"]')


def listed(ctx):
    return ctx.driver.execute_script(_NAMES, '[data-testid="session-item"]')


def reload_signed_in(ctx):
    """The page loaded again: the sign-in cookie stays, the page's state does not."""
    ctx.open("/")
    ctx.wait_testid("session-search")


def scenario_sessions_manage(ctx):
    stamp = int(time.time() * 1000)
    one, two = "alpha %d" % stamp, "beta %d" % stamp
    new_session(ctx, one, connections=("production",))
    new_session(ctx, two)

    # Search: only the sessions whose names match stay in the list.
    ctx.type("session-search", "alpha %d" % stamp)
    ctx.wait(lambda d: listed(ctx) == [one], "the search to list only %r (lists %r)" % (one, listed(ctx)))
    # Selenium's clear() sets the value without the input event React listens to; a person deletes the text.
    ctx.wait_testid("session-search").send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    ctx.wait(lambda d: {one, two} <= set(listed(ctx)), "both sessions listed again")

    # Rename the open one (beta), with Enter.
    renamed = "gamma %d" % stamp
    open_session(ctx, two)
    ctx.click("session-rename")
    ctx.type("session-rename-input", renamed, enter=True)
    ctx.wait_attr("session-item", "data-name", renamed)

    # Attach backup to alpha (production only), then detach it.
    open_session(ctx, one)
    ctx.wait(lambda d: attached(ctx) == ["production"], "alpha to have production only (has %r)" % attached(ctx))
    ctx.select("session-attach-select", "backup")
    ctx.click("session-attach")
    ctx.wait(lambda d: attached(ctx) == ["backup", "production"], "backup attached (has %r)" % attached(ctx))
    reload_signed_in(ctx)
    open_session(ctx, one)
    ctx.wait(lambda d: attached(ctx) == ["backup", "production"], "backup still attached after a reload")
    ctx.wait(lambda d: ctx.wait_attr("session-db", "data-name", "backup")
             .find_element("css selector", '[data-testid="session-detach"]').click() or True, "backup's detach button")
    ctx.wait(lambda d: attached(ctx) == ["production"], "backup detached (has %r)" % attached(ctx))

    # Delete gamma (the renamed beta): gone from the list, and still gone after a reload.
    open_session(ctx, renamed)
    ctx.click("session-delete")
    ctx.click("session-delete-confirm")
    ctx.wait(lambda d: renamed not in listed(ctx), "the deleted session to leave the list")
    reload_signed_in(ctx)
    ctx.wait_attr("session-item", "data-name", one)
    ctx.check(renamed not in listed(ctx) and two not in listed(ctx),
              "after a reload the list still has the deleted or the old name: %r" % listed(ctx))
    names = ctx.sql("coordinator", "SELECT string_agg(name, ',' ORDER BY name) FROM multidb.chat_sessions "
                                   "WHERE name LIKE '%% %d'" % stamp)
    ctx.check(names == one, "the coordinator keeps sessions %r, not only %r" % (names, one))
