#!/usr/bin/python3
"""`make screenshots`: a PNG of each screen of the web UI at a desktop's 1366x900 and a phone's 390x844, against
the browser test's fixture (test/t/MultidbWeb.pm), in --out as <screen>-<width>x<height>.png; prints each path.

Each screen is a function screen_<name>(ctx) below, run in file order on a fresh page: it brings the page to that
screen or raises Skip when the UI does not have it (yet); a skipped screen prints "skipped <name>: why". Only
data-testids of the UI's contract are used, so a screen appears here once the UI has it.

  screenshots.py --base-url URL --fixture fixture.json --out DIR
"""
import argparse
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DESKTOP, PHONE, Skip  # noqa: E402

# A screen that is not there shows within this long of the page being signed in (the shell renders at once).
MISSING = 3


def need(ctx, name, timeout=MISSING):
    """The shown element with data-testid=name; Skip when the page has none at all (the UI lacks the screen), a
    failure when it has one that is not shown (at this viewport, say)."""
    try:
        return ctx.wait_testid(name, timeout=timeout)
    except harness.ScenarioFailure:
        if ctx.find(name):
            raise harness.ScenarioFailure('data-testid="%s" is in the page but not shown at %dx%d'
                                          % ((name,) + ctx.browser.viewport)) from None
        raise Skip('the UI has no data-testid="%s" yet' % name) from None


def signed_in(ctx):
    need(ctx, "signin-form", timeout=10)
    ctx.sign_in()


def open_tab(ctx, tab):
    signed_in(ctx)
    need(ctx, tab)
    ctx.click(tab)


def screen_signin(ctx):
    need(ctx, "signin-form", timeout=10)


def screen_chat(ctx):
    """A session over both databases and one answered question: two lanes, their tables, the chart."""
    signed_in(ctx)
    need(ctx, "session-new")
    ctx.click("session-new")
    need(ctx, "new-session-dialog")
    ctx.type("new-session-name", "screenshots %dx%d" % ctx.browser.viewport)
    for option in ctx.find("conn-option"):
        if option.get_attribute("data-name") in ctx.fixture["connections"] and not option.is_selected():
            option.click()
    ctx.click("new-session-create")
    need(ctx, "question-input", timeout=10)
    ctx.type("question-input", "screenshots: sales by region", enter=True)
    ctx.wait_attr("answer", "data-status", lambda status: status in ("done", "error"), timeout=30)


def screen_chat_lanes(ctx):
    """The chat's lanes at work: a plan with a combine step, then one lane's SQL edited into a write the guard
    refuses (its message and HINT in the lane)."""
    signed_in(ctx)
    need(ctx, "session-new")
    ctx.click("session-new")
    need(ctx, "new-session-dialog")
    ctx.type("new-session-name", "lanes %dx%d" % ctx.browser.viewport)
    for option in ctx.find("conn-option"):
        if option.get_attribute("data-name") in ctx.fixture["connections"]:
            option.click()
    ctx.click("new-session-create")
    need(ctx, "question-input", timeout=10)
    ctx.type("question-input", "chat: orders only in production", enter=True)
    answer = ctx.wait_attr("answer", "data-status", lambda status: status in ("done", "error"), timeout=30)
    lanes = ctx.find("lane", answer)
    editor = lanes[0].find_element(harness.By.CSS_SELECTOR, '[data-testid="lane-sql"] [aria-label^="SQL for"]')
    ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", editor)
    editor.click()
    editor.send_keys(harness.Keys.CONTROL, "a")
    editor.send_keys("DELETE FROM orders")
    button = ctx.wait_testid("lane-run-this", within=lanes[0])
    button.click()
    ctx.wait_testid("lane-error", within=lanes[0], timeout=15)
    ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", answer)


def build_orders_by_month(ctx):
    """The Builder with orders of the last 90 days counted by month on both databases, each step's preview shown."""
    open_tab(ctx, "tab-builder")
    need(ctx, "builder-sources")
    for name in ctx.fixture["connections"]:
        ctx.wait_attr("builder-conn-option", "data-name", name).click()
    ctx.wait_attr("builder-table-option", "data-name", "public.orders", timeout=15).click()
    ctx.click("builder-filter-add")
    ctx.select("builder-filter-column", "created_at")
    ctx.select("builder-filter-op", "last")
    ctx.type("builder-filter-amount", "90")
    ctx.click("builder-summary-add")
    ctx.click("builder-group-add")
    ctx.select("builder-group-column", "created_at")
    ctx.select("builder-group-by", "month")
    ctx.wait(lambda d: sum(1 for p in ctx.find("builder-preview") if p.get_attribute("data-step") == "summarize"
                           and "created_at_month" in p.text) == 2, "the summarize step's previews by month", timeout=30)


def screen_builder(ctx):
    """The Builder's steps, the sources down to the summaries, with their previews."""
    build_orders_by_month(ctx)
    ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", ctx.wait_testid("builder-filter"))


def screen_builder_results(ctx):
    """The Builder's query run: a lane per database and the chart of both."""
    build_orders_by_month(ctx)
    ctx.click("builder-run")
    ctx.wait_count("lane", 2, timeout=60)
    chart = ctx.wait_testid("chart", timeout=30)
    ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", chart)


def screen_compare(ctx):
    open_tab(ctx, "tab-compare")
    need(ctx, "compare-run")
    ctx.select("compare-a", "production")
    ctx.select("compare-b", "backup")
    ctx.type("compare-sql", "SELECT id, customer_id, amount FROM orders")
    ctx.type("compare-keys", "id")
    ctx.click("compare-run")
    ctx.wait_testid("compare-only-a", timeout=30)


def screen_schema_diff(ctx):
    open_tab(ctx, "tab-schema-diff")
    need(ctx, "diff-run")
    ctx.select("diff-a", "production")
    ctx.select("diff-b", "backup")
    ctx.click("diff-run")
    ctx.wait_testid("diff-object", timeout=30)


def screen_reports(ctx):
    open_tab(ctx, "tab-reports")


def screen_report_runs(ctx):
    """A report of both databases run twice from the Reports tab: its runs, the rows of the last, the diff."""
    import urllib.error
    from scenario_tabs import Api
    api = Api(ctx)
    try:
        api.call("POST", "/api/reports", {"name": "orders over 490", "connection_ids": ["production", "backup"],
                                          "sql": "SELECT id, customer_id, amount FROM orders WHERE amount > 490 ORDER BY id"})
    except urllib.error.HTTPError as answer:
        if answer.code != 409:  # made at the other size already
            raise
    open_tab(ctx, "tab-reports")
    need(ctx, "report-item")
    ctx.wait_attr("report-item", "data-name", "orders over 490").click()
    runs = int(need(ctx, "report-runs", timeout=15).get_attribute("data-count"))
    for _ in range(2 if runs == 0 else 1):
        runs += 1
        ctx.click("report-run")
        ctx.wait_attr("report-runs", "data-count", str(runs), timeout=30)
    ctx.wait_testid("report-run-rows", timeout=30)
    ctx.wait_testid("report-diff", timeout=30)


def screen_history(ctx):
    open_tab(ctx, "tab-history")
    need(ctx, "history-item", timeout=10)  # the chat screen's asks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    screens = [(name[len("screen_"):], function) for name, function in globals().items()
               if name.startswith("screen_") and callable(function)]
    browser = harness.Browser()
    broken = 0
    try:
        for name, function in screens:
            for width, height in (DESKTOP, PHONE):
                ctx = harness.Context(browser, args.base_url, fixture, args.out, name)
                try:
                    ctx.fresh_page()
                    ctx.set_viewport(width, height)
                    function(ctx)
                except Skip as why:
                    print("skipped %s: %s" % (name, why), flush=True)
                    break
                except Exception as error:
                    traceback.print_exc(file=sys.stderr)
                    path = ctx.screenshot("%s-%dx%d.failed.png" % (name, width, height))
                    print("failed %s at %dx%d: %s (%s)" % (name, width, height, " ".join(str(error).split()), path),
                          flush=True)
                    broken += 1
                    continue
                print(ctx.screenshot("%s-%dx%d.png" % (name, width, height)), flush=True)
                for message in browser.console_errors():
                    print("console error on %s: %s" % (name, message), flush=True)
    finally:
        browser.close()
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
