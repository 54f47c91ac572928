#!/usr/bin/python3
"""Runs the browser scenarios: every function scenario_<name>(ctx) of every test/browser/scenario_*.py, in file
order and, within a file, in the order they are written, in one headless chromium for the whole run.

Prints one line per scenario, "ok <name>" or "not ok <name>: <reason>", and exits non-zero when any failed.
A failed scenario leaves a screenshot (<name>.png) and the page's HTML (<name>.html) in --screenshots, named
in its line. An error in the browser's console (an uncaught exception, console.error, a CSP violation) fails
the scenario it happened in.

  run.py --base-url http://127.0.0.1:PORT --fixture fixture.json --screenshots DIR [--only REGEX]

--fixture is the JSON file test/t/MultidbWeb.pm writes: the roles with their passwords, the connections, the
groups and the databases behind them. Run it under `flock /tmp/multidb-browser.lock` (one browser at a time).
"""
import argparse
import importlib.util
import inspect
import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def discover(directory, only):
    """[(name, function)] of every scenario, in file order then in the order written; only: a regex on names."""
    found = []
    for filename in sorted(os.listdir(directory)):
        if not (filename.startswith("scenario_") and filename.endswith(".py")):
            continue
        path = os.path.join(directory, filename)
        spec = importlib.util.spec_from_file_location(filename[:-3], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attribute, value in vars(module).items():  # a module's namespace keeps definition order
            if attribute.startswith("scenario_") and inspect.isfunction(value) and value.__module__ == module.__name__:
                name = attribute[len("scenario_"):]
                if only is None or re.search(only, name):
                    found.append((name, value))
    return found


def one_line(text):
    return " ".join(str(text).split())


def run_scenario(browser, args, fixture, name, function):
    """Runs one scenario; returns None when it passed, else the reason."""
    ctx = harness.Context(browser, args.base_url, fixture, args.screenshots, name)
    reason = None
    try:
        browser.console_errors()  # what the last scenario left is not this one's
        ctx.fresh_page()
        function(ctx)
    except harness.ScenarioFailure as failure:
        reason = one_line(failure)
    except Exception as error:  # a scenario's own bug, or the driver's: still this scenario's failure
        traceback.print_exc(file=sys.stderr)
        reason = "%s: %s" % (type(error).__name__, one_line(str(error).splitlines()[0] if str(error) else ""))
    errors = browser.console_errors()
    if errors:
        reason = ((reason + "; ") if reason else "") + "error in the browser console: " + one_line(errors[0])
        if len(errors) > 1:
            reason += " (and %d more)" % (len(errors) - 1)
    if reason:
        try:
            png = ctx.screenshot(name + ".png")
            with open(os.path.join(args.screenshots, name + ".html"), "w", encoding="utf-8") as f:
                f.write(browser.driver.page_source)
            reason += " (screenshot: %s)" % png
        except Exception as error:
            reason += " (no screenshot: %s)" % one_line(error)
    return reason


def page_problem(base_url):
    """Why GET / is not the UI's page (None when it is): then no scenario waits out its timeouts on an error."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/", timeout=15) as answer:
            kind = answer.headers.get("Content-Type", "")
            return None if kind.startswith("text/html") else "GET / answered %s, not text/html" % kind
    except urllib.error.HTTPError as answer:
        return "GET / answered %d: %s" % (answer.code, one_line(answer.read()[:200].decode("utf-8", "replace")))
    except OSError as error:
        return "GET / failed: %s" % one_line(error)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--screenshots", required=True, help="where a failed scenario's screenshot goes")
    parser.add_argument("--only", help="a regular expression: only the scenarios whose name it finds")
    parser.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    scenarios = discover(args.dir, args.only)
    if not scenarios:
        print("not ok discovery: no scenario_*.py function matched", flush=True)
        return 1
    os.makedirs(args.screenshots, exist_ok=True)
    problem = page_problem(args.base_url)
    if problem:
        for name, _ in scenarios:
            print("not ok %s: the gateway serves no UI: %s" % (name, problem), flush=True)
        return 1
    try:
        browser = harness.Browser()
    except Exception as error:
        print("not ok browser: chromium did not start: %s" % one_line(error), flush=True)
        return 1
    failed = 0
    try:
        for name, function in scenarios:
            started = time.monotonic()
            reason = run_scenario(browser, args, fixture, name, function)
            print("%s: %.1f s" % (name, time.monotonic() - started), file=sys.stderr, flush=True)
            if reason:
                failed += 1
                print("not ok %s: %s" % (name, reason), flush=True)
            else:
                print("ok %s" % name, flush=True)
    finally:
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
