"""The Builder tab against the fixture (test/t/MultidbWeb.pm), by clicking only: orders of the last 90 days
counted by month on production and backup (two lanes, a chart of two series, each database's SQL, saved as a
report that the Reports tab runs); a compare of the two on orders keyed by id finds the ten orders only production
has; a table only production has is not offered and is listed as missing from backup; at phone width nothing
scrolls the page sideways."""
import time

from harness import PHONE

# A new report per run: a report's name is taken for good, and a fixture may serve several runs (make screenshots).
REPORT = "builder orders by month %d" % time.time()


def option(ctx, testid, name):
    """The element with that data-testid and data-name, once it is there."""
    return ctx.wait_attr(testid, "data-name", name)


def start(ctx, *sources):
    """Signed in, on the Builder, the sources ticked and the table orders picked."""
    ctx.sign_in()
    ctx.click("tab-builder")
    for name in sources:
        option(ctx, "builder-conn-option", name).click()
    option(ctx, "builder-table-option", "public.orders").click()
    ctx.wait_testid("builder-columns")


def of_database(ctx, testid, database, within=None):
    return next((e for e in ctx.find(testid, within) if e.get_attribute("data-database") == database), None)


def scenario_builder_orders_by_month(ctx):
    start(ctx, "production", "backup")
    # The table step's preview: at most 5 rows of each database.
    for database in ("production", "backup"):
        preview = ctx.wait(lambda d: next((p for p in ctx.find("builder-preview") if p.get_attribute("data-step") == "table"
                                           and p.get_attribute("data-database") == database), None),
                           "the table step's preview of %s" % database)
        rows = ctx.find("result-row", within=preview)
        ctx.check(1 <= len(rows) <= 5, "the preview of %s shows %d rows" % (database, len(rows)))

    ctx.click("builder-filter-add")
    ctx.select("builder-filter-column", "created_at")
    ctx.select("builder-filter-op", "last")
    ctx.type("builder-filter-amount", "90")
    ctx.select("builder-filter-unit", "day")
    ctx.click("builder-summary-add")  # count of rows, the first summary offered
    # Its row and the step's previews move "+ Group" down as they come: clicked once they are there (a click while
    # the page moves can land beside the button).
    ctx.wait_testid("builder-summary-row")
    ctx.wait(lambda d: sum(1 for p in ctx.find("builder-preview") if p.get_attribute("data-step") == "summarize") == 2,
             "the summarize step's previews of both databases, before grouping")
    ctx.click("builder-group-add")
    ctx.select("builder-group-column", "created_at")
    ctx.select("builder-group-by", "month")
    ctx.wait(lambda d: sum(1 for p in ctx.find("builder-preview") if p.get_attribute("data-step") == "summarize") == 2,
             "the summarize step's previews of both databases")

    ctx.click("builder-run")
    lanes = ctx.wait(lambda d: (lambda l: l if len(l) == 2 and all(x.get_attribute("data-state") == "done" for x in l) else None)(
        ctx.find("lane")), "two lanes done", timeout=30)
    ctx.check(sorted(l.get_attribute("data-database") for l in lanes) == ["backup", "production"],
              "the lanes are %r" % [l.get_attribute("data-database") for l in lanes])
    # Orders 1..90 and 150..190 are within 90 days on both: each database counts at least 3 months.
    for lane in lanes:
        months = len(ctx.find("result-row", within=lane))
        ctx.check(3 <= months <= 4, "%s answers %d months" % (lane.get_attribute("data-database"), months))
    chart = ctx.wait_testid("chart")
    ctx.check(chart.get_attribute("data-series") == "2", "the chart has %s series, not 2" % chart.get_attribute("data-series"))

    ctx.click("builder-view-sql")
    ctx.wait_count("builder-sql-item", 2)
    for database in ("production", "backup"):
        item = of_database(ctx, "builder-sql-item", database)
        ctx.check(item is not None, "no SQL shown for %s" % database)
        text = ctx.find("builder-sql-text", within=item)[0].get_attribute("data-sql")
        ctx.check("date_trunc('month'" in text and "created_at" in text and "count(*)" in text.lower(),
                  "the SQL for %s reads %r" % (database, text))

    ctx.click("builder-save-report")
    ctx.type("builder-report-name", REPORT)
    ctx.click("builder-report-save-confirm")
    ctx.wait_text("builder-report-saved", REPORT)

    ctx.click("tab-reports")
    option(ctx, "report-item", REPORT).click()
    ctx.wait_attr("report-detail", "data-name", REPORT)
    # What it runs: the spec compiled again, one statement per database (not "no SQL": the plan holds the spec).
    planned = ctx.wait(
        lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('[data-testid=report-plan] [data-testid=plan-query]'))"
            ".map(e => e.getAttribute('data-database')).join(',')") or None,
        "the report's plan shows its SQL per database")
    ctx.check(planned == "production,backup", "the report's plan shows the SQL of %s" % planned)
    ctx.click("report-run")
    ctx.wait_attr("report-run-item", "data-status", "ok", timeout=30)
    rows = ctx.wait_attr("report-run-rows", "data-rows", lambda v: v is not None and v.isdigit() and int(v) >= 6)
    shown = ctx.find("report-row", within=rows)
    ctx.check(len(shown) >= 6, "the report's run shows %d rows, not one per month of each database" % len(shown))


def scenario_builder_compare(ctx):
    start(ctx, "production", "backup")
    ctx.click("builder-mode-compare")
    ctx.select("builder-compare-a", "production")
    ctx.select("builder-compare-b", "backup")
    option(ctx, "builder-compare-key-option", "id").click()
    ctx.click("builder-run")
    only_a = ctx.wait_attr("compare-only-a", "data-count", "10", timeout=30)
    ids = sorted(int(r.find_elements("css selector", 'td[data-column="id"]')[0].text)
                 for r in ctx.find("compare-row", within=only_a))
    ctx.check(ids == list(range(191, 201)), "only in production: ids %r, not 191..200" % ids)
    ctx.check(ctx.wait_testid("compare-only-b").get_attribute("data-count") == "0", "rows only in backup")
    ctx.check(ctx.wait_testid("compare-different").get_attribute("data-count") == "1", "order 7 is not the one changed")


def scenario_builder_table_missing(ctx):
    ctx.sign_in()
    ctx.click("tab-builder")
    option(ctx, "builder-conn-option", "production").click()
    option(ctx, "builder-table-option", "public.promotions")  # production alone has it
    option(ctx, "builder-conn-option", "backup").click()
    missing = option(ctx, "builder-table-missing", "public.promotions")
    ctx.wait(lambda d: not any(o.get_attribute("data-name") == "public.promotions" for o in ctx.find("builder-table-option")),
             "public.promotions to be no longer offered once backup is picked")
    ctx.check(any(o.get_attribute("data-name") == "public.orders" for o in ctx.find("builder-table-option")),
              "public.orders is not offered for production and backup")
    text = missing.get_attribute("textContent")
    ctx.check("missing from backup" in text, "the missing table reads %r" % text)


def scenario_builder_phone_width(ctx):
    ctx.set_viewport(*PHONE)
    start(ctx, "production", "backup")
    ctx.click("builder-summary-add")
    ctx.click("builder-group-add")
    ctx.select("builder-group-column", "customer_id")
    ctx.click("builder-run")
    ctx.wait_count("lane", 2, timeout=30)
    overflow = ctx.horizontal_overflow()
    ctx.check(overflow == 0, "the Builder at %dx%d scrolls sideways by %d px" % (PHONE + (overflow,)))
    # The page clips what is wider than it (body's overflow-x): every step and lane must end within the viewport.
    for name in ("builder-sources", "builder-table", "builder-columns", "builder-filter", "builder-summarize",
                 "builder-sort", "builder-mode", "lane"):
        for element in ctx.find(name):
            right = ctx.driver.execute_script("return arguments[0].getBoundingClientRect().right;", element)
            ctx.check(right <= PHONE[0] + 0.5, "%s ends at %.0f px, past the %d px viewport" % (name, right, PHONE[0]))
