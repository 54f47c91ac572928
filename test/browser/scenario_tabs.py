"""The Compare, Schema diff, Reports and History tabs against the fixture (test/t/MultidbWeb.pm): compare finds
the orders the backup lacks and marks the changed cell of order 7; schema diff shows a view defined differently
on each side with both definitions; a report run twice from the Reports tab shows its runs, their rows and the
rows added and removed between them; its schedule goes into pg_cron and out again; History lists the asks and
opens one's plan. What a scenario needs beyond the fixture it makes itself, through the API or psql, first."""
import http.cookiejar
import json
import time
import urllib.request

from harness import PHONE

# A new report per run: a report's name is taken for good, and a fixture may serve several runs (make screenshots).
REPORT = "tabs orders %d" % time.time()
QUESTION = "tabs: orders in each database"


class Api:
    """The HTTP API as one signed-in role: the scenarios' set-up (a report, an ask) goes through it, as a script
    would, not around it."""

    def __init__(self, ctx, index=0):
        self.base = ctx.base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        role, password = ctx.role(index)
        self.call("POST", "/api/auth/login", {"role": role, "password": password})

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "X-Multidb-CSRF": "1"})
        with self.opener.open(request, timeout=60) as answer:
            text = answer.read()
            return json.loads(text) if text else None


def open_tab(ctx, tab):
    ctx.sign_in()
    ctx.click(tab)


def cells_of(row, ctx):
    """{column: (text, changed)} of the cells of one <tr> of a compare table."""
    out = {}
    for cell in row.find_elements("css selector", "td[data-column]"):
        out[cell.get_attribute("data-column")] = (cell.text.replace("changed:", "").strip(),
                                                  cell.get_attribute("data-changed") == "true")
    return out


def scenario_tabs_compare(ctx):
    open_tab(ctx, "tab-compare")
    ctx.select("compare-a", "production")
    ctx.select("compare-b", "backup")
    ctx.type("compare-sql", "SELECT id, customer_id, amount FROM orders")
    ctx.type("compare-keys", "id")
    ctx.click("compare-run")
    only_a = ctx.wait_attr("compare-only-a", "data-count", "10", timeout=30)
    ids = sorted(int(cells_of(r, ctx)["id"][0]) for r in ctx.find("compare-row", within=only_a))
    ctx.check(ids == list(range(191, 201)), "only in production: ids %r, not 191..200" % ids)
    only_b = ctx.wait_testid("compare-only-b")
    ctx.check(only_b.get_attribute("data-count") == "0", "rows only in backup: %s" % only_b.get_attribute("data-count"))
    different = ctx.wait_attr("compare-different", "data-count", "1")
    pair = ctx.find("compare-row", within=different)
    ctx.check(len(pair) == 1, "%d changed pairs shown, not 1" % len(pair))
    rows = pair[0].find_elements("css selector", "tr")
    a, b = cells_of(rows[0], ctx), cells_of(rows[1], ctx)
    ctx.check(a["id"] == ("7", False) and b["id"] == ("7", False), "the changed pair is not order 7: %r %r" % (a, b))
    ctx.check(a["amount"][1] and b["amount"][1], "the amount of order 7 is not marked changed: %r %r" % (a, b))
    ctx.check(not a["customer_id"][1], "customer_id of order 7 is marked changed though it is the same")
    ctx.check(round(float(b["amount"][0]) - float(a["amount"][0]), 2) == 100, "amounts %r / %r" % (a["amount"], b["amount"]))


def scenario_tabs_compare_error(ctx):
    open_tab(ctx, "tab-compare")
    ctx.select("compare-a", "production")
    ctx.select("compare-b", "backup")
    ctx.type("compare-sql", "SELECT id FROM no_such_table")
    ctx.click("compare-run")
    error = ctx.wait_testid("compare-error", timeout=30)
    ctx.check(error.get_attribute("role") == "alert", "compare-error is not role=alert")
    ctx.check("no_such_table" in error.text, "compare-error does not name the table: %r" % error.text)


def scenario_tabs_schema_diff(ctx):
    # A view both databases have, defined differently: an object with both definitions.
    for database, bound in (("production", 100), ("backup", 250)):
        ctx.sql(database, "CREATE OR REPLACE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > %d" % bound)
    open_tab(ctx, "tab-schema-diff")
    ctx.select("diff-a", "production")
    ctx.select("diff-b", "backup")
    ctx.click("diff-refresh")
    ctx.click("diff-run")
    ctx.wait_testid("diff-results", timeout=30)
    view = ctx.wait(lambda d: next((o for o in ctx.find("diff-object")
                                    if o.get_attribute("data-kind") == "view" and "big_orders" in o.get_attribute("data-name")), None),
                    "a diff-object of kind view named big_orders")
    a = ctx.find("diff-definition-a", within=view)[0]
    b = ctx.find("diff-definition-b", within=view)[0]
    ctx.check("100" in a.text and "250" in b.text, "the view's definitions: %r / %r" % (a.text, b.text))
    marked_a = [l.text for l in a.find_elements("css selector", '[data-changed="true"]')]
    ctx.check(any("100" in t for t in marked_a), "the differing line of production's definition is not marked: %r" % marked_a)
    # The index only production has: its definition on one side, "Not in backup" on the other.
    index = next((o for o in ctx.find("diff-object") if "orders_ordered_on_idx" in o.get_attribute("data-name")), None)
    ctx.check(index is not None, "no diff-object for the index only production has")
    ctx.check(ctx.find("diff-definition-b", within=index)[0].get_attribute("data-absent") == "true",
              "the index is not shown absent from backup")


def scenario_tabs_reports(ctx):
    ctx.sql("production", "DROP TABLE IF EXISTS tabs_runs; CREATE TABLE tabs_runs (n int); "
                          "INSERT INTO tabs_runs VALUES (1), (2); GRANT SELECT ON tabs_runs TO reader")
    Api(ctx).call("POST", "/api/reports", {"name": REPORT, "sql": "SELECT n FROM tabs_runs ORDER BY n",
                                            "connection_ids": ["production"]})
    open_tab(ctx, "tab-reports")
    ctx.wait_attr("report-item", "data-name", REPORT).click()
    ctx.wait_attr("report-detail", "data-name", REPORT)
    ctx.click("report-run")
    ctx.wait_attr("report-run-item", "data-status", "ok", timeout=30)
    rows = ctx.wait_attr("report-run-rows", "data-rows", "2")
    values = sorted(r.text.split()[-1] for r in ctx.find("report-row", within=rows))
    ctx.check(values == ["1", "2"], "the first run's rows: %r" % values)
    ctx.check(ctx.find("report-diff")[0].get_attribute("data-count") == "", "a diff is shown after one run")

    ctx.sql("production", "DELETE FROM tabs_runs WHERE n = 1; INSERT INTO tabs_runs VALUES (3)")
    ctx.click("report-run")
    ctx.wait_attr("report-runs", "data-count", "2", timeout=30)
    diff = ctx.wait_attr("report-diff", "data-count", "2", timeout=30)
    changes = sorted((r.get_attribute("data-change"), r.text.split()[-1]) for r in ctx.find("report-diff-row", within=diff))
    ctx.check(changes == [("added", "3"), ("removed", "1")], "the diff of the two runs: %r" % changes)
    # The first run's rows again, from the list of runs.
    first = ctx.find("report-run-item")[-1]
    first.click()
    ctx.wait(lambda d: ctx.find("report-run-item")[-1].get_attribute("aria-current") == "true", "run 1 opened")
    rows = ctx.wait_attr("report-run-rows", "data-rows", "2")
    values = sorted(r.text.split()[-1] for r in ctx.find("report-row", within=rows))
    ctx.check(values == ["1", "2"], "the first run's rows, opened again: %r" % values)


def scenario_tabs_report_schedule(ctx):
    jobs = "SELECT schedule FROM cron.job WHERE jobname = 'multidb report %s'" % REPORT
    open_tab(ctx, "tab-reports")
    ctx.wait_attr("report-item", "data-name", REPORT).click()
    ctx.wait_attr("report-detail", "data-name", REPORT)
    schedule = ctx.wait_attr("report-schedule", "data-available", lambda v: v in ("true", "false"))
    if schedule.get_attribute("data-available") == "false":
        # No pg_cron here: the API's reason (GET /api/reports/scheduling) instead of the form.
        error = ctx.wait_testid("report-error", within=schedule)
        ctx.check("pg_cron" in error.text, "the refusal does not say why: %r" % error.text)
        ctx.check(not ctx.find("report-schedule-save"), "the schedule form is shown though scheduling cannot work")
        return
    ctx.type("report-schedule-cron", "15 6 * * 1")
    ctx.click("report-schedule-save")
    ctx.wait_text("report-schedule-status", "15 6 * * 1")
    ctx.check(ctx.sql("coordinator", jobs) == "15 6 * * 1", "pg_cron has not the job: %r" % ctx.sql("coordinator", jobs))
    # The list, read again from GET /api/reports, names the schedule pg_cron has.
    ctx.wait(lambda d: "15 6 * * 1" in ctx.wait_attr("report-item", "data-name", REPORT).text,
             "the report's item to show its schedule")
    ctx.click("report-unschedule")
    ctx.wait_gone("report-schedule-status")
    ctx.check(ctx.sql("coordinator", jobs) == "", "the job is still in pg_cron after Unschedule")
    ctx.wait(lambda d: "15 6 * * 1" not in ctx.wait_attr("report-item", "data-name", REPORT).text,
             "the report's item to drop its schedule")


def scenario_tabs_history(ctx):
    api = Api(ctx)
    body = {"question": QUESTION, "connection_ids": ["production", "backup"]}
    first = str(api.call("POST", "/api/multi-query", body)["query_history_id"])
    newest = str(api.call("POST", "/api/multi-query", body)["query_history_id"])
    open_tab(ctx, "tab-history")
    ctx.wait_attr("history-entry", "data-id", newest)  # the newest opens by itself
    item = ctx.wait_attr("history-item", "data-id", first)
    ctx.check(QUESTION in item.text, "the history item reads %r" % item.text)
    ctx.check(item.get_attribute("data-status") not in ("", None), "the history item has no status")
    item.click()
    ctx.wait_attr("history-entry", "data-id", first)
    plan = ctx.wait_testid("history-plan")
    queries = {q.get_attribute("data-database"): q for q in ctx.find("plan-query", within=plan)}
    ctx.check(sorted(queries) == ["backup", "production"], "the plan's databases: %r" % sorted(queries))
    sql = ctx.find("plan-sql", within=queries["production"])[0].get_attribute("data-sql")
    ctx.check(sql == "SELECT count(*) AS n FROM orders", "production's SQL reads %r" % sql)
    combine = ctx.wait_testid("plan-combine-sql", within=plan)
    ctx.check("production.n - backup.n" in combine.text, "the combine step reads %r" % combine.text)


def scenario_tabs_phone_width(ctx):
    ctx.set_viewport(*PHONE)
    ctx.sign_in()
    for tab, ready in (("tab-compare", "compare-run"), ("tab-schema-diff", "diff-run"),
                       ("tab-reports", "report-item"), ("tab-history", "history-item")):
        ctx.click(tab)
        ctx.wait_testid(ready)
        overflow = ctx.horizontal_overflow()
        ctx.check(overflow == 0, "%s at %dx%d scrolls sideways by %d px" % ((tab,) + PHONE + (overflow,)))
    # A wide result scrolls in its own box, not the page.
    ctx.click("tab-compare")
    ctx.select("compare-a", "production")
    ctx.select("compare-b", "backup")
    ctx.type("compare-sql", "SELECT w.*, current_database() AS db FROM wide w WHERE id <= 3")
    ctx.type("compare-keys", "id")
    ctx.click("compare-run")
    ctx.wait_attr("compare-different", "data-count", "3", timeout=30)
    overflow = ctx.horizontal_overflow()
    ctx.check(overflow == 0, "a compare's results at phone width scroll the page sideways by %d px" % overflow)
