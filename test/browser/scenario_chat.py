"""The chat tab: a session over production and backup; an ask whose two lanes reach done with each database's
rows; a plan with a combine step; a lane's SQL edited and run again (on one database, on all); a write the guard
refuses, shown with its HINT; a slow ask cancelled (on the coordinator too); a chart with a series per database;
a CSV export's content; another role seeing none of the sessions; a phone's width with no sideways scroll;
10,000 rows x 20 columns paged; and an answer saved as a report and run from the Reports tab. The scripted LLM's replies are test/browser/chat.llm.json."""
import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from harness import PHONE, testid

BOTH = ("production", "backup")


def new_session(ctx, name, connections=BOTH):
    """Signs in (the first role unless already), makes a session over connections through the dialog, and waits
    until it is open; returns its id."""
    ctx.wait(lambda d: ctx.find("signin-form") or ctx.find("whoami"), "the sign-in form or the signed-in shell")
    if ctx.find("signin-form"):
        ctx.sign_in()
    ctx.click("session-new")
    ctx.wait_testid("new-session-dialog")
    ctx.type("new-session-name", name)
    for connection in connections:
        option = ctx.wait_attr("conn-option", "data-name", connection)
        option.click()
    ctx.click("new-session-create")
    item = ctx.wait(lambda d: next((e for e in ctx.find("session-item") if e.get_attribute("data-name") == name
                                    and e.get_attribute("aria-current") == "true"), None),
                    "session %r listed and open" % name)
    ctx.check(not ctx.find("new-session-dialog"), "the dialog stays open after the session was made")
    return item.get_attribute("data-session-id")


def ask(ctx, question, until=("done",), timeout=60):
    """Asks with Enter; waits until the new answer's data-status is one of until; returns that answer."""
    before = len(ctx.find("answer"))
    ctx.type("question-input", question, enter=True)
    ctx.wait(lambda d: len(ctx.find("answer")) > before, "a new answer for %r" % question)
    return ctx.wait(lambda d: (lambda a: a if a.get_attribute("data-status") in until else None)(ctx.find("answer")[-1]),
                    "the answer to %r to be %s" % (question, " or ".join(until)), timeout)


def lane(ctx, answer, database):
    return ctx.wait(lambda d: next((e for e in ctx.find("lane", answer) if e.get_attribute("data-database") == database),
                                   None), "the lane of %s" % database)


# A table's cells read in one script, not one WebDriver round trip per cell (a page of 100 rows x 20 columns
# would be 2,000 of them). innerText is what a person sees, as Selenium's .text is.
_CELLS = """return Array.from(arguments[0].querySelectorAll('[data-testid="result-row"]'),
                       (row) => Array.from(row.querySelectorAll('td'), (td) => td.innerText.trim()));"""


def table_rows(ctx, within):
    """The cells' texts of every result-row of the first result table within an element."""
    table = ctx.wait_testid("result-table", within=within)
    return ctx.driver.execute_script(_CELLS, table)


def table_dicts(ctx, table):
    """The rows of a result table as {header: cell text} (the column order is the API's to choose)."""
    names = ctx.driver.execute_script("return Array.from(arguments[0].querySelectorAll('th'), (th) => th.innerText.trim());", table)
    return [dict(zip(names, row)) for row in ctx.driver.execute_script(_CELLS, table)]


def press(ctx, element):
    """Clicks an element after scrolling it to the middle of the viewport (the question box sticks to the
    bottom of the page and would take a click on what it covers)."""
    ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def edit_sql(ctx, lane_element, sql):
    """Replaces the lane's SQL in its editor (found by its accessible name), as a person types."""
    editor = lane_element.find_element(By.CSS_SELECTOR, testid("lane-sql") + ' [aria-label^="SQL for"]')
    press(ctx, editor)
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(sql)
    ctx.wait(lambda d: editor.text.replace("\n", " ").strip() == sql, "the editor to hold %r" % sql)


def fetch_text(ctx, url):
    """GET url with the page's own cookie (a same-origin fetch); returns (status, text)."""
    result = ctx.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'})
          .then(async (r) => done([r.status, await r.text()]), (e) => done([0, String(e)]));""", url)
    return result[0], result[1]


def scenario_chat_two_lanes(ctx):
    name = "two lanes %d" % time.time()
    new_session(ctx, name)
    answer = ask(ctx, "chat: orders per database")
    for database, count in (("production", "200"), ("backup", "190")):
        element = lane(ctx, answer, database)
        ctx.check(element.get_attribute("data-state") == "done",
                  "%s's lane is %s, not done" % (database, element.get_attribute("data-state")))
        ctx.check("1 rows" in ctx.wait_testid("lane-rows", within=element).text, "%s's lane-rows: %r"
                  % (database, ctx.wait_testid("lane-rows", within=element).text))
        rows = table_rows(ctx, element)
        ctx.check(rows == [[count, count]], "%s's rows are %r, not [[%s, %s]]" % (database, rows, count, count))
    combined = ctx.wait_testid("combined-table", within=answer)
    got = sorted(tuple(r) for r in ([c.text for c in row.find_elements(By.TAG_NAME, "td")]
                                    for row in ctx.find("result-row", combined)))
    ctx.check(got == [("backup", "190", "190"), ("production", "200", "200")], "the combined rows are %r" % (got,))
    ctx.wait_text("explanation", "The orders each database holds.")

    # The dialog says each connection is reachable (GET /api/connections/health: a SELECT 1 as the caller).
    ctx.click("session-new")
    for database in BOTH:
        option = ctx.wait_attr("conn-option", "data-name", database)
        health = ctx.wait(lambda d: (lambda t: t if "checking" not in t else None)(
            ctx.wait_testid("conn-health", within=option).text), "%s's health to be known" % database)
        ctx.check(health.startswith("reachable"), "%s's health reads %r" % (database, health))

    # Opened again (a fresh page), the session shows its past question and answer.
    ctx.open("/")
    item = ctx.wait_attr("session-item", "data-name", name)
    item.click()
    ctx.wait(lambda d: any("chat: orders per database" in a.text for a in ctx.find("answer")),
             "the restored thread to show the question")
    ctx.wait_testid("explanation")


def scenario_chat_past_rows(ctx):
    """A past answer, reopened on a fresh page, shows nothing run until "Show rows"; then its lanes (SQL, row
    counts from the history entry) and each lane's rows paged through the server (?offset=&limit=100); a past
    combine step's SQL and rows."""
    name = "past rows %d" % time.time()
    new_session(ctx, name)
    ask(ctx, "chat: every order by id")
    ask(ctx, "chat: orders only in production")
    ctx.open("/")
    ctx.wait_attr("session-item", "data-name", name).click()
    answer = ctx.wait(lambda d: next((a for a in ctx.find("answer") if "chat: every order by id" in a.text), None),
                      "the restored thread to show the question")
    ctx.check(not ctx.find("lane", answer), "a past answer shows lanes before Show rows")
    show = ctx.wait_testid("past-rows-show", within=answer)
    press(ctx, show)
    for database, count in (("production", "200"), ("backup", "190")):
        element = lane(ctx, answer, database)
        text = ctx.wait(lambda d: (lambda t: t if t else None)(ctx.wait_testid("lane-rows", within=element).text),
                        "%s's lane-rows" % database)
        ctx.check(text == "%s rows" % count, "%s's lane-rows: %r" % (database, text))
    production = lane(ctx, answer, "production")
    table = ctx.wait_testid("result-table", within=production)
    info = lambda: ctx.wait_testid("page-info", within=table).text
    ctx.wait(lambda d: info() == "rows 1\u2013100 of 200", "production's page-info 'rows 1-100 of 200'")
    rows = table_dicts(ctx, table)
    ctx.check(len(rows) == 100 and rows[0].get("id") == "1", "production's first page: %d rows, first %r"
              % (len(rows), rows[:1]))
    press(ctx, ctx.wait_testid("page-next", within=table))
    ctx.wait(lambda d: info() == "rows 101\u2013200 of 200", "production's page-info 'rows 101-200 of 200'")
    rows = table_dicts(ctx, table)
    ctx.check(len(rows) == 100 and rows[0].get("id") == "101", "production's second page: %d rows, first %r"
              % (len(rows), rows[:1]))

    combined = ctx.wait(lambda d: next((a for a in ctx.find("answer") if "chat: orders only in production" in a.text),
                                       None), "the past answer with a combine step")
    press(ctx, ctx.wait_testid("past-rows-show", within=combined))
    ctx.check("EXCEPT" in ctx.wait_testid("combine-sql", within=combined).get_attribute("data-sql"),
              "the combine step's SQL is not shown")
    result = ctx.wait_testid("combine-result", within=combined)
    rows = table_dicts(ctx, result)
    ctx.check(rows == [{"missing": "10", "first_missing": "191"}], "the past combine step's rows are %r" % rows)


def scenario_chat_combine_step(ctx):
    new_session(ctx, "combine %d" % time.time())
    answer = ask(ctx, "chat: orders only in production")
    result = ctx.wait_testid("combine-result", within=answer)
    rows = table_dicts(ctx, result)
    ctx.check(rows == [{"missing": "10", "first_missing": "191"}], "the combine step's rows are %r" % rows)
    for database in BOTH:
        ctx.check(lane(ctx, answer, database).get_attribute("data-state") == "done", "%s's lane is not done" % database)


def scenario_chat_edit_and_rerun(ctx):
    new_session(ctx, "rerun %d" % time.time())
    answer = ask(ctx, "chat: orders per database")
    production = lane(ctx, answer, "production")
    edit_sql(ctx, production, "SELECT count(*) AS orders FROM orders WHERE id <= 50")
    press(ctx, ctx.wait_testid("lane-run-this", within=production))
    ctx.wait(lambda d: table_rows(ctx, production) == [["50"]], "production's lane to show 50 after the re-run")
    ctx.check(table_rows(ctx, lane(ctx, answer, "backup")) == [["190", "190"]], "the re-run on one database changed backup")
    # On all the session's databases: both lanes take the edited SQL's rows.
    edit_sql(ctx, production, "SELECT count(*) AS orders FROM orders WHERE id <= 195")
    press(ctx, ctx.wait_testid("lane-run-all", within=production))
    ctx.wait(lambda d: table_rows(ctx, production) == [["195"]], "production's lane to show 195")
    ctx.wait(lambda d: table_rows(ctx, lane(ctx, answer, "backup")) == [["190"]], "backup's lane to show 190")


def scenario_chat_refused_write(ctx):
    new_session(ctx, "refused %d" % time.time())
    answer = ask(ctx, "chat: orders per database")
    production = lane(ctx, answer, "production")
    edit_sql(ctx, production, "DELETE FROM orders")
    press(ctx, ctx.wait_testid("lane-run-this", within=production))
    ctx.wait(lambda d: production.get_attribute("data-state") == "refused", "the lane to be refused")
    error = ctx.wait_testid("lane-error", within=production)
    hint = ctx.wait_testid("lane-hint", within=error)
    ctx.check(error.get_attribute("role") == "alert", "the lane's error is not role=alert")
    ctx.check(hint.text.startswith("HINT:") and len(hint.text) > 7, "the HINT reads %r" % hint.text)
    ctx.check("Traceback" not in error.text and "Error:" not in error.text, "a stack is shown: %r" % error.text)
    ctx.check(ctx.sql("production", "SELECT count(*) FROM orders") == "200", "the DELETE ran")


def scenario_chat_cancel(ctx):
    new_session(ctx, "cancel %d" % time.time())
    ctx.type("question-input", "chat: a slow question", enter=True)
    answer = ctx.wait_attr("answer", "data-status", "running")
    backup = lane(ctx, answer, "backup")
    ctx.wait(lambda d: backup.get_attribute("data-state") == "running", "the backup lane to run", 30)
    # multidb reads through a cursor: the remote's active statement is its FETCH.
    sleeping = ("SELECT count(*) FROM pg_stat_activity WHERE datname = 'backup' AND state = 'active'"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
    ctx.wait(lambda d: ctx.sql("backup", sleeping) != "0", "the slow statement to run on backup", 30)
    ctx.check(ctx.wait_testid("ask-cancel").is_enabled(), "Cancel is not enabled while the ask runs")
    ctx.wait_testid("question-input").send_keys(Keys.ESCAPE)
    ctx.wait(lambda d: answer.get_attribute("data-status") == "cancelled", "the answer to be cancelled")
    ctx.check(backup.get_attribute("data-state") == "cancelled", "the backup lane is %s" % backup.get_attribute("data-state"))
    history = ("SELECT status FROM multidb.query_history WHERE question = 'chat: a slow question' "
               "ORDER BY id DESC LIMIT 1")
    ctx.wait(lambda d: ctx.sql("coordinator", history) == "cancelled", "the coordinator's history to say cancelled", 20)
    ctx.wait(lambda d: ctx.sql("backup", sleeping) == "0", "the slow statement to be gone from backup", 20)
    ctx.check(not ctx.wait_testid("ask-cancel").is_enabled(), "Cancel stays enabled after the ask ended")


def scenario_chat_chart(ctx):
    new_session(ctx, "chart %d" % time.time())
    answer = ask(ctx, "chat: sales by region")
    chart = ctx.wait_testid("chart", within=answer)
    ctx.check(chart.get_attribute("data-series") == "2", "the chart has %s series" % chart.get_attribute("data-series"))
    ctx.check(chart.get_attribute("data-chart-type") == "bar", "the chart starts as %s" % chart.get_attribute("data-chart-type"))
    drawn = ctx.driver.execute_script(
        "const c = arguments[0]; const x = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < x.length; i += 4) if (x[i]) n++; return n;", chart)
    ctx.check(drawn > 1000, "the chart's canvas is blank (%d pixels drawn)" % drawn)
    press(ctx, ctx.wait_testid("chart-type-line", within=answer))
    ctx.wait(lambda d: ctx.wait_testid("chart", within=answer).get_attribute("data-chart-type") == "line",
             "the chart to become lines")


def scenario_chat_export_csv(ctx):
    session = new_session(ctx, "export %d" % time.time())
    answer = ask(ctx, "chat: orders per database")
    message = ctx.wait(lambda d: answer.get_attribute("data-message-id"), "the answer's message id")
    link = ctx.wait_testid("lane-export-csv", within=lane(ctx, answer, "backup"))
    href = link.get_attribute("href")
    ctx.check("/api/chat/sessions/%s/messages/%s/results" % (session, message) in href and "database=backup" in href
              and "format=csv" in href, "the lane's CSV link is %r" % href)
    status, text = fetch_text(ctx, href)
    ctx.check(status == 200, "the CSV link answered %d: %s" % (status, text[:200]))
    lines = text.strip().splitlines()
    ctx.check(lines[0].split(",")[0] == "source_db" and set(lines[0].split(",")[1:]) == {"orders", "last_id"},
              "the CSV's header is %r" % lines[0])
    ctx.check(len(lines) == 2 and lines[1].startswith("backup,") and set(lines[1].split(",")[1:]) == {"190"},
              "the CSV's rows are %r" % lines[1:])
    status, text = fetch_text(ctx, ctx.wait_testid("combined-export-json", within=answer).get_attribute("href"))
    rows = json.loads(text) if status == 200 else None
    ctx.check(rows is not None and sorted((r["database"], r["row"]["orders"]) for r in rows)
              == [("backup", 190), ("production", 200)], "the combined JSON export is %r" % text[:300])


def scenario_chat_other_role(ctx):
    alice_name = "alice only %d" % time.time()
    alice_id = new_session(ctx, alice_name)
    ctx.sign_out()
    bob, _ = ctx.role(1)
    ctx.sign_in(bob)
    bob_name = "bob's own %d" % time.time()
    new_session(ctx, bob_name)
    names = [e.get_attribute("data-name") for e in ctx.find("session-item")]
    ids = [e.get_attribute("data-session-id") for e in ctx.find("session-item")]
    ctx.check(alice_name not in names and alice_id not in ids, "bob sees alice's session: %r" % names)
    ctx.check(not any(n.startswith(("two lanes", "combine", "rerun", "export", "alice")) for n in names),
              "bob sees another role's sessions: %r" % names)


def scenario_chat_phone(ctx):
    ctx.set_viewport(*PHONE)
    new_session(ctx, "phone %d" % time.time())
    answer = ask(ctx, "chat: sales by region")
    ctx.wait_testid("chart", within=answer)
    ctx.wait_testid("result-table", within=answer)
    overflow = ctx.horizontal_overflow()
    ctx.check(overflow == 0, "at %dx%d the page scrolls sideways by %d px" % (PHONE + (overflow,)))
    sidebar_bottom = ctx.driver.execute_script(
        "return document.querySelector('[data-testid=session-search]').getBoundingClientRect().bottom")
    thread_top = ctx.driver.execute_script(
        "return document.querySelector('[data-testid=question-input]').getBoundingClientRect().top")
    ctx.check(sidebar_bottom < thread_top, "on a phone the sessions are not above the thread")


def scenario_chat_wide_paging(ctx):
    new_session(ctx, "wide %d" % time.time())
    answer = ask(ctx, "chat: the wide table", timeout=90)
    production = lane(ctx, answer, "production")
    table = ctx.wait_testid("result-table", within=production)
    info = ctx.wait_testid("page-info", within=table)
    ctx.check(info.text == "rows 1–100 of 10,000", "page-info reads %r" % info.text)
    ctx.check(len(ctx.find("result-row", table)) == 100, "the first page has %d rows" % len(ctx.find("result-row", table)))
    ctx.check(len(table.find_elements(By.TAG_NAME, "th")) == 20, "the table has not 20 columns")
    elapsed = ctx.driver.execute_async_script("""
        const [table, done] = [arguments[0], arguments[arguments.length - 1]];
        const info = table.querySelector('[data-testid="page-info"]');
        const t0 = performance.now();
        table.querySelector('[data-testid="page-next"]').click();
        (function check() {
          if (info.textContent === 'rows 101–200 of 10,000') done(performance.now() - t0);
          else if (performance.now() - t0 > 5000) done(-1);
          else requestAnimationFrame(check);
        })();""", table)
    ctx.check(0 <= elapsed < 1000, "a page change took %.0f ms" % elapsed)
    first = table_dicts(ctx, table)[0]["id"]
    ctx.check(first == "101", "the second page starts at id %r, not 101" % first)
    ctx.check(len(ctx.find("result-row", table)) == 100, "the second page has %d rows" % len(ctx.find("result-row", table)))
    press(ctx, ctx.wait_testid("page-prev", within=table))
    ctx.wait(lambda d: info.text == "rows 1–100 of 10,000", "page-prev to go back")


def scenario_chat_save_report(ctx):
    """An answer saved as a report from its own button, then run from the Reports tab: the run has the rows the
    answer had (its plan, frozen), one per database."""
    new_session(ctx, "report %d" % time.time())
    answer = ask(ctx, "chat: orders per database")
    name = "orders per database %d" % time.time()
    press(ctx, ctx.wait_testid("report-save", within=answer))
    ctx.type("report-name", name)
    ctx.click("report-save-confirm")
    ctx.wait(lambda d: any(name in e.text for e in answer.find_elements(By.CSS_SELECTOR, '[role="status"]')),
             "the answer to say it was saved as %r" % name)
    press(ctx, ctx.wait_testid("tab-reports"))
    ctx.wait_attr("report-item", "data-name", name).click()
    ctx.wait_attr("report-detail", "data-name", name)
    ctx.click("report-run")
    ctx.wait_attr("report-run-item", "data-status", "ok", timeout=30)
    rows = ctx.wait_attr("report-run-rows", "data-rows", "2")
    got = sorted(" ".join(r.text.split()) for r in ctx.find("report-row", within=rows))
    # Each row: source_db, then the count and the last id (backup lacks orders 191-200).
    ctx.check(got == ["backup 190 190", "production 200 200"], "the report's run has rows %r" % got)
