# shellcheck shell=bash
# `make bench`, section (n): the web UI in headless chromium, sourced by bench/run.sh; `BENCH_ONLY=ui make bench`
# runs only this section. It starts the browser test's own fixture (test/t/MultidbWeb.pm: production and backup,
# a coordinator, the scripted LLM answering at once, multidb-web) through lib.sh's run_web_fixture, and
# test/browser/bench_ui.py measures, each figure the median of $UI_RUNS runs:
#   - the page's first paint and first contentful paint (performance paint entries, the cache off);
#   - from pressing Enter in question-input to the first lane leaving "queued" and to every lane "done", timed in
#     the page (the keydown event's time, a MutationObserver on the lanes' data-state);
#   - the same ask over the API alone (a streamed POST to the session's messages): to its first "started" event and
#     to "result", so that the UI's own cost shows beside it;
#   - the bundle (app.js, app.css, index.html as installed) gzipped.

UI_RUNS=${UI_RUNS:-7}
ui_json=''

bench_ui() {
  log "(n) the web UI in headless chromium: first paint, Enter to lanes, and the same ask over the API"
  # The browser and the TAP framework the fixture is written in (make test installs them too).
  ensure_packages chromium chromium-driver python3-selenium postgresql-15-cron libipc-run-perl rsync
  ui_json=$(run_web_fixture bench_ui.py --runs "$UI_RUNS" --ui-dir "$("$PG_CONFIG" --sharedir)/multidb-web/ui" | tail -1)
}

bench_ui_report() {
  echo
  echo "## (n) the web UI in headless chromium (2 databases, the scripted LLM answering at once; medians of $UI_RUNS asks)"
  echo
  printf '%s\n' "$ui_json" | python3 -c '
import json, sys
try:
    r = json.loads(sys.stdin.read())
except ValueError:
    print("No figures: the UI bench did not run (see its output above).")
    sys.exit(0)
def ms(v): return "-" if v is None else "%.1f ms" % v
def diff(a, b): return "-" if a is None or b is None else "%+.1f ms" % (a - b)
print("The UI is timed in the page from the Enter keydown in the question box; the API from sending a streamed POST to the session'"'"'s messages (python, loopback).")
print()
print("| step | UI (Enter ->) | API alone (request ->) | the UI'"'"'s own cost |")
print("|---|---:|---:|---:|")
print("| first lane leaves queued / first started event | %s | %s | %s |" % (ms(r.get("ui_first_lane_ms")), ms(r.get("api_first_started_ms")), diff(r.get("ui_first_lane_ms"), r.get("api_first_started_ms"))))
print("| every lane done / result event | %s | %s | %s |" % (ms(r.get("ui_all_done_ms")), ms(r.get("api_result_ms")), diff(r.get("ui_all_done_ms"), r.get("api_result_ms"))))
print()
print("| page | |")
print("|---|---:|")
print("| first paint (cache off) | %s |" % ms(r.get("first_paint_ms")))
print("| first contentful paint (cache off) | %s |" % ms(r.get("first_contentful_paint_ms")))
b = r.get("bundle_gzip_bytes")
print("| bundle gzipped (app.js + app.css + index.html, level 9; the build'"'"'s limit 400 kB) | %s |" % ("-" if b is None else "%.1f kB" % (b / 1000)))
if r.get("errors"):
    print()
    print("Not measured as asked: " + "; ".join(r["errors"]))
'
}
