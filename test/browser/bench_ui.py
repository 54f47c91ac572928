#!/usr/bin/python3
"""The UI bench (`make bench`, section (n)): what the web UI adds on top of the API, in headless chromium against
the browser test's fixture (test/t/MultidbWeb.pm) with the scripted LLM answering at once. Prints one JSON object:

  first_paint_ms, first_contentful_paint_ms   the page's paint entries on a load with the cache off (median)
  ui_first_lane_ms, ui_all_done_ms            from the Enter keydown in question-input (the event's own time) to
                                              the first lane leaving "queued" and to every lane "done", timed in the
                                              page by a MutationObserver (no WebDriver round trip in the figure)
  api_first_started_ms, api_result_ms         the same ask over the API alone: a streamed POST to the session's
                                              messages, to its first "started" event and to its "result"
  bundle_gzip_bytes                           app.js + app.css + index.html of --ui-dir, gzipped (level 9)
  runs, lanes, errors

Each figure is the median of --runs runs; every ask is a new question (the plan cache never answers it).

  bench_ui.py --base-url URL --fixture fixture.json [--runs N] [--ui-dir DIR]
"""
import argparse
import base64
import gzip
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

QUESTION = "bench: orders per region"

# Installed in the page before each ask: the time of the Enter keydown in question-input, then of the first lane
# of the newest answer leaving "queued" and of every lane of it reaching "done" (or any terminal state: an error is
# reported, not waited for forever).
WATCH = r"""
const expected = arguments[0];
const before = document.querySelectorAll('[data-testid="answer"]').length;
const w = window.__bench = {enter: null, first: null, done: null, states: null};
document.addEventListener('keydown', e => {
  if (w.enter === null && e.key === 'Enter' && !e.shiftKey && e.target.dataset.testid === 'question-input')
    w.enter = e.timeStamp;
}, {capture: true, once: false});
const look = () => {
  const answers = document.querySelectorAll('[data-testid="answer"]');
  if (answers.length <= before) return;
  const lanes = [...answers[answers.length - 1].querySelectorAll('[data-testid="lane"]')];
  const states = lanes.map(l => l.dataset.state);
  const now = performance.now();
  if (w.first === null && states.some(s => s && s !== 'queued')) w.first = now;
  if (w.done === null && states.length === expected &&
      states.every(s => ['done', 'error', 'refused', 'cancelled'].includes(s))) { w.done = now; w.states = states; }
};
new MutationObserver(look).observe(document.body,
  {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
"""


def median(values):
    return round(statistics.median(values), 1) if values else None


def api(base_url, method, path, role, password, body=None, stream=False):
    url = urllib.parse.urlparse(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (role, password)).encode()).decode(),
               "Content-Type": "application/json"}
    if stream:
        headers["Accept"] = "text/event-stream"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    return connection, connection.getresponse()


def api_ask(base_url, role, password, session_id, question):
    """(ms to the first "started" event, ms to "result") of one streamed ask in the session."""
    start = time.perf_counter()
    connection, response = api(base_url, "POST", "/api/chat/sessions/%s/messages" % session_id, role, password,
                               {"question": question}, stream=True)
    first = result = None
    event = None
    while True:
        line = response.fp.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
            if event == "started" and first is None:
                first = (time.perf_counter() - start) * 1000
            if event in ("result", "error"):
                result = (time.perf_counter() - start) * 1000 if event == "result" else None
                break
    connection.close()
    return first, result


def first_paint(ctx, runs):
    ctx.driver.execute_cdp_cmd("Network.enable", {})
    ctx.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    paints, contentful = [], []
    for _ in range(runs):
        ctx.open("/")
        entries = ctx.wait(lambda d: d.execute_script(
            "const p = performance.getEntriesByType('paint');"
            "return p.some(e => e.name === 'first-contentful-paint') ? p.map(e => [e.name, e.startTime]) : null;"),
            "the page's first contentful paint")
        entries = dict(entries)
        paints.append(entries.get("first-paint", entries["first-contentful-paint"]))
        contentful.append(entries["first-contentful-paint"])
    ctx.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    return median(paints), median(contentful)


def ui_asks(ctx, session_id, runs, lanes):
    firsts, dones, errors = [], [], []
    ctx.fresh_page()
    ctx.sign_in()
    ctx.wait_attr("session-item", "data-session-id", session_id).click()
    ctx.wait_attr("session-item", "aria-current", "true")
    for run in range(runs):
        ctx.driver.execute_script(WATCH, lanes)
        ctx.type("question-input", "%s (ui %d)" % (QUESTION, run), enter=True)
        w = ctx.wait(lambda d: (lambda w: w if w and w["done"] is not None else None)(
            d.execute_script("return window.__bench")), "every lane of the answer to end", timeout=60)
        if w["enter"] is None or w["first"] is None:
            errors.append("run %d: no Enter keydown or no lane left queued" % run)
            continue
        if any(s != "done" for s in w["states"]):
            errors.append("run %d: lanes %s" % (run, w["states"]))
        firsts.append(w["first"] - w["enter"])
        dones.append(w["done"] - w["enter"])
        ctx.wait_attr("answer", "data-status", lambda s: s in ("done", "error"))
    return median(firsts), median(dones), errors


def bundle_size(ui_dir):
    if not ui_dir or not os.path.isdir(ui_dir):
        return None
    total = 0
    for name in ("app.js", "app.css", "index.html"):
        path = os.path.join(ui_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                total += len(gzip.compress(f.read(), 9))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ui-dir")
    args = parser.parse_args()
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    role, password = fixture["roles"][0]["name"], fixture["roles"][0]["password"]
    lanes = len(fixture["connections"])
    connection, response = api(args.base_url, "POST", "/api/chat/sessions", role, password,
                               {"name": "bench", "connection_ids": fixture["connections"]})
    session = json.loads(response.read())
    connection.close()
    session_id = session["id"]
    out = {"runs": args.runs, "lanes": lanes, "bundle_gzip_bytes": bundle_size(args.ui_dir), "errors": []}

    api_firsts, api_results = [], []
    for run in range(args.runs):
        first, result = api_ask(args.base_url, role, password, session_id, "%s (api %d)" % (QUESTION, run))
        if first is None or result is None:
            out["errors"].append("api run %d: no started or no result event" % run)
            continue
        api_firsts.append(first)
        api_results.append(result)
    out["api_first_started_ms"], out["api_result_ms"] = median(api_firsts), median(api_results)

    browser = harness.Browser()
    try:
        ctx = harness.Context(browser, args.base_url, fixture, "/tmp")
        ctx.fresh_page()
        out["first_paint_ms"], out["first_contentful_paint_ms"] = first_paint(ctx, args.runs)
        try:
            out["ui_first_lane_ms"], out["ui_all_done_ms"], errors = ui_asks(ctx, session_id, args.runs, lanes)
            out["errors"] += errors
        except harness.ScenarioFailure as failure:
            out["ui_first_lane_ms"] = out["ui_all_done_ms"] = None
            out["errors"].append("ui: %s" % failure)
    finally:
        browser.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
