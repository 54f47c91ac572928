#!/usr/bin/python3
"""How well multidb answers with a given LLM: every question of eval/questions.json is asked through
multidb.ask on a coordinator that has the demo's connections (production, backup, the four tenants) and the
eval's fleet (60 tenant databases t001 … t060 of one schema, group @fleet; eval/make_fleet.sh), and judged
by execution against its gold plan (multidb.run_plan): the same rows from the same databases, their values
compared whatever the column names, in the same order only when the question asks for one — or, for a question
that must be refused, a refusal by multidb's guard or the model declining. Prints execution accuracy overall and per
category, routing accuracy (the same databases as the gold plan), repair rounds used, LLM time (median, p90)
and tokens.

The coordinator is reached with psql and the usual PG* variables. The LLM is the one the demo's variables name
(MULTIDB_DEMO_LLM_URL, MULTIDB_DEMO_LLM_PROVIDER, MULTIDB_DEMO_LLM_MODEL, MULTIDB_LLM_API_KEY), or with --stub
the project's scripted stand-in (test/llm/llm_stub.py) answering every question with its gold plan ("gold": the
harness must then score 100%) or with the scripted mistakes ("mistakes": the figures drop by exactly those).

Usage: evaluate.py [--questions FILE] [--stub gold|mistakes] [--psql PATH] [--json FILE]
Only the Python standard library is used.
"""
import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CATEGORIES = ["single", "routing", "compare", "combine", "followup", "fleet", "refuse"]
SERVER = "multidb_eval_llm"


class Coordinator:
    """psql against the coordinator: each call a new session, values passed as psql variables (never spliced)."""

    def __init__(self, psql):
        self.psql = psql

    def run(self, sql, variables=None, check=True):
        command = [self.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]
        for name, value in (variables or {}).items():
            command += ["-v", "%s=%s" % (name, value)]
        done = subprocess.run(command, input=sql, capture_output=True, text=True, encoding="utf-8")
        if check and done.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (done.stderr.strip(), sql))
        return done.returncode, done.stdout.strip(), done.stderr.strip()


def read_groups(db):
    """Every group of the coordinator, as {"@name": [members, in order]}."""
    out = db.run("SELECT coalesce(json_object_agg('@' || name, connections), '{}') FROM multidb.connection_groups;")[1]
    return json.loads(out)


def expand(connections, groups):
    names = []
    for name in connections:
        names += groups.get(name, [name])
    return names


def plan_databases(plan, connections, groups):
    """The databases a plan reaches: each entry's "database", or its set "databases" expanded — a group to its
    members, "*" to every database the question attaches."""
    names = set()
    for step in plan["queries"]:
        if "database" in step:
            names.add(step["database"])
        for name in step.get("databases", []):
            names.update(expand(connections, groups) if name == "*" else expand([name], groups))
    return names


def stored_plan(plan, connections, groups):
    """A gold plan as multidb stores it, which is what run_plan takes: each set written in "queries" expanded to
    one statement per member, and listed under "sets" with its members and the relation the combine step reads it
    as (a group's name without '@', "all_databases" for "*", none for a list of names)."""
    queries, sets = [], []
    for step in plan["queries"]:
        if "database" in step:
            queries.append(step)
            continue
        written = step["databases"]
        members = expand(connections, groups) if written == ["*"] else expand(written, groups)
        relation = ("all_databases" if written == ["*"]
                    else written[0][1:] if len(written) == 1 and written[0].startswith("@") else None)
        queries += [{"database": member, "sql": step["sql"]} for member in members]
        sets.append({"databases": written, "sql": step["sql"], "relation": relation, "members": members})
    stored = dict(plan, queries=queries)
    if sets:
        stored["sets"] = sets
    return stored


def stub_script(questions, mode, groups):
    """Rules for the scripted stand-in: the gold plan (or the write a refused question invites), or the mistake.
    Longest questions first: the stub answers the first rule whose text is in the question."""
    rules = []
    for q in sorted(questions, key=lambda q: -len(q["question"])):
        if mode == "mistakes" and "mistake" in q:
            plan = q["mistake"]
        elif q["category"] == "refuse":
            plan = {"queries": [{"database": expand(q["connections"], groups)[0], "sql": q["refuse_sql"]}]}
        else:
            plan = q["gold"]
        rules.append({"match": q["question"], "reply": json.dumps(dict(plan, explanation="scripted: " + q["id"]))})
    return {"rules": rules, "default": "no scripted reply"}


def start_stub(questions, mode, groups, workdir):
    script = os.path.join(workdir, "script.json")
    port_file = os.path.join(workdir, "port")
    with open(script, "w", encoding="utf-8") as f:
        json.dump(stub_script(questions, mode, groups), f)
    stub = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "test", "llm", "llm_stub.py"),
                             "--script", script, "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            with open(port_file) as f:
                return stub, "http://127.0.0.1:%s/v1" % f.read().strip()
        time.sleep(0.05)
    stub.kill()
    raise RuntimeError("the scripted LLM did not start")


def rows_json(sql_from):
    return ("SELECT coalesce(jsonb_agg(jsonb_build_array(source_db, row_data) ORDER BY ord), '[]')::text "
            "FROM %s WITH ORDINALITY AS t(source_db, row_data, ord)" % sql_from)


def row_signature(row):
    """A row as its source and its values, names aside: a right answer under other column aliases is right.
    (row_data is a JSON object whose keys jsonb orders by itself, so values are compared as a multiset.)"""
    source, data = row
    values = sorted(json.dumps(v, sort_keys=True) for v in (data.values() if isinstance(data, dict) else [data]))
    return json.dumps([source, values])


def same_rows(got, gold, ordered):
    got = [row_signature(row) for row in got]
    gold = [row_signature(row) for row in gold]
    return got == gold if ordered else sorted(got) == sorted(gold)


# A model may decline a harmful question itself instead of proposing what the guard then refuses: either is right.
DECLINED = ("has no queries", "refused to answer", "content filter")


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def evaluate(db, questions, groups):
    results = []
    sessions = {}
    for q in questions:
        connections = json.dumps(q["connections"])
        if "session" in q and q["session"] not in sessions:
            sessions[q["session"]] = db.run(
                "SELECT multidb.create_session(:'name', ARRAY(SELECT jsonb_array_elements_text(:'conns'::jsonb)));",
                {"name": "eval " + q["session"] + " " + secrets.token_hex(4), "conns": connections})[1]
        scope = ("session => :'session'::uuid" if "session" in q
                 else "connections => ARRAY(SELECT jsonb_array_elements_text(:'conns'::jsonb))")
        variables = {"q": q["question"], "conns": connections, "session": sessions.get(q.get("session"), "")}
        gold_rows = None
        if q["category"] != "refuse":
            code, out, err = db.run(rows_json("multidb.run_plan(:'gold'::jsonb)") + ";",
                                    {"gold": json.dumps(stored_plan(q["gold"], q["connections"], groups))},
                                    check=False)
            if code != 0:
                raise RuntimeError("%s: the gold plan fails: %s" % (q["id"], err))
            gold_rows = json.loads(out)
        setup = "SET multidb.llm_server = '%s'; SET multidb.result_cache_ttl = 0; " % SERVER
        code, out, err = db.run(setup + rows_json("multidb.ask(:'q', %s)" % scope) + ";", variables, check=False)
        history = db.run(
            "SELECT json_build_object('status', status, 'used', databases_used, 'attempts', "
            "CASE jsonb_typeof(attempts) WHEN 'array' THEN jsonb_array_length(attempts) ELSE 0 END, "
            "'error', error, 'llm_ms', llm_ms, 'prompt_tokens', prompt_tokens, "
            "'completion_tokens', completion_tokens) FROM multidb.query_history WHERE question = :'q' "
            "ORDER BY id DESC LIMIT 1;", {"q": q["question"]})[1]
        history = json.loads(history) if history else {"status": "unrecorded", "used": [], "attempts": 0}
        if q["category"] == "refuse":
            correct = code != 0 and (history["status"] == "refused" or
                                     any(word in (history.get("error") or "") for word in DECLINED))
            routed = None
        else:
            correct = code == 0 and history["status"] == "ok" and same_rows(json.loads(out), gold_rows,
                                                                           q.get("ordered", False))
            gold_databases = plan_databases(q["gold"], q["connections"], groups)
            used = {name for name in (history["used"] or []) if name != "combined"}
            routed = used == gold_databases
        results.append({"id": q["id"], "category": q["category"], "correct": correct, "routed": routed,
                        "repairs": max(0, history["attempts"] - 1), "llm_ms": history.get("llm_ms"),
                        "prompt_tokens": history.get("prompt_tokens"),
                        "completion_tokens": history.get("completion_tokens"),
                        "error": None if code == 0 else err.splitlines()[0] if err else "failed"})
    return results


def summary(results):
    def share(items, key):
        judged = [r[key] for r in items if r[key] is not None]
        return {"n": len(judged), "right": sum(judged), "percent": round(100.0 * sum(judged) / len(judged), 1) if judged else None}

    llm_ms = [r["llm_ms"] for r in results if r["llm_ms"] is not None]
    tokens = lambda key: sum(r[key] for r in results if r[key] is not None) if any(r[key] is not None for r in results) else None
    return {"accuracy": share(results, "correct"),
            "per_category": {c: share([r for r in results if r["category"] == c], "correct")
                             for c in CATEGORIES if any(r["category"] == c for r in results)},
            "routing": share(results, "routed"),
            "repairs": sum(r["repairs"] for r in results),
            "llm_ms_median": statistics.median(llm_ms) if llm_ms else None,
            "llm_ms_p90": percentile(llm_ms, 0.9),
            "prompt_tokens": tokens("prompt_tokens"), "completion_tokens": tokens("completion_tokens"),
            "wrong": [r["id"] for r in results if not r["correct"]]}


def print_table(s, llm):
    print("\nmultidb eval against %s\n" % llm)
    print("| measure | questions | right | share |")
    print("|---|---:|---:|---:|")
    print("| execution accuracy | %d | %d | %.1f%% |" % (s["accuracy"]["n"], s["accuracy"]["right"], s["accuracy"]["percent"]))
    for category, figure in s["per_category"].items():
        print("| … %s | %d | %d | %.1f%% |" % (category, figure["n"], figure["right"], figure["percent"]))
    print("| routing accuracy | %d | %d | %.1f%% |" % (s["routing"]["n"], s["routing"]["right"], s["routing"]["percent"]))
    fmt = lambda v: "unknown" if v is None else ("%.0f" % v if isinstance(v, float) else str(v))
    print("\nrepair rounds used: %d; LLM time per ask: median %s ms, p90 %s ms; tokens: %s prompt, %s completion"
          % (s["repairs"], fmt(s["llm_ms_median"]), fmt(s["llm_ms_p90"]), fmt(s["prompt_tokens"]),
             fmt(s["completion_tokens"])))
    if s["wrong"]:
        print("not right: " + ", ".join(s["wrong"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=os.path.join(HERE, "questions.json"))
    parser.add_argument("--stub", choices=["gold", "mistakes"])
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--json", help="also write the figures and each question's outcome to this file")
    args = parser.parse_args()
    with open(args.questions, encoding="utf-8") as f:
        questions = json.load(f)["questions"]
    db = Coordinator(args.psql)
    groups = read_groups(db)

    stub = None
    workdir = tempfile.mkdtemp(prefix="multidb-eval-")
    try:
        if args.stub or not os.environ.get("MULTIDB_DEMO_LLM_URL"):
            mode = args.stub or "gold"
            stub, url = start_stub(questions, mode, groups, workdir)
            provider, model, key = "openai", "scripted-" + mode, ""
            llm = "the SCRIPTED STAND-IN answering with the %s plans (not a model; set MULTIDB_DEMO_LLM_URL for one)" % mode
        else:
            url = os.environ["MULTIDB_DEMO_LLM_URL"]
            provider = os.environ.get("MULTIDB_DEMO_LLM_PROVIDER", "openai")
            model = os.environ.get("MULTIDB_DEMO_LLM_MODEL", "gpt-4o-mini")
            key = os.environ.get("MULTIDB_LLM_API_KEY", "")
            llm = "%s (%s, %s)" % (url, provider, model)
        db.run("DROP SERVER IF EXISTS %s CASCADE; CREATE SERVER %s FOREIGN DATA WRAPPER multidb_llm "
               "OPTIONS (provider :'provider', url :'url', model :'model', timeout '10min'); "
               "CREATE USER MAPPING FOR PUBLIC SERVER %s OPTIONS (api_key :'key'); SELECT multidb.clear_cache();"
               % (SERVER, SERVER, SERVER), {"provider": provider, "url": url, "model": model, "key": key})
        results = evaluate(db, questions, groups)
    finally:
        if stub:
            stub.terminate()
            stub.wait()
    figures = summary(results)
    print_table(figures, llm)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"summary": figures, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
