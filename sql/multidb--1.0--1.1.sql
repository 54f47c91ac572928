-- multidb 1.0 -> 1.1: building a query without writing SQL (issue 23). A query spec (JSON: the connections, one
-- table, columns, a filter tree, summaries grouped by columns, sort, limit, and a mode: fanout, totals or compare)
-- is compiled by the library into SQL per database, checked against each database's schema as the schema cache
-- holds it (a table or column a database lacks is an ERROR naming it and the database; every mistake in the spec
-- itself is a 22023 naming its field). This version adds build_plan and spec_catalog (C), build_sql, build and
-- save_report_spec (over build_plan, run_plan and compare), and run_report, which now also runs a report saved from
-- a spec ({"spec": ...}), compiling it again at each run.
\echo Use "ALTER EXTENSION multidb UPDATE TO '1.1'" to load this file. \quit

-- ================================================================================== compiling a spec

CREATE FUNCTION build_plan(spec jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'multidb_build_plan' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION build_plan(jsonb) IS
    'a query spec compiled against the schemas of its connections, every statement guarded, nothing run: '
    '{"mode", "queries": [{database, sql}], "combine", "compare": {a, b, key}, "columns", "description", "spec"}';

CREATE FUNCTION spec_catalog(connections text[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'multidb_spec_catalog' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION spec_catalog(text[]) IS
    'what a query spec over these connections may use, from the schema cache: each table with the databases that '
    'have it and lack it, its columns with each database''s type and whether the types differ';

-- The SQL a spec compiles to, one row per database (fanout), then the combine step as "combined" (totals); a
-- compare's two statements, a then b. Guarded, not run.
CREATE FUNCTION build_sql(spec jsonb) RETURNS TABLE (source_db text, sql text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    planned jsonb := multidb.build_plan(spec);
BEGIN
    RETURN QUERY SELECT q ->> 'database', q ->> 'sql'
                   FROM pg_catalog.jsonb_array_elements(planned -> 'queries') WITH ORDINALITY x(q, n) ORDER BY n;
    IF pg_catalog.jsonb_typeof(planned -> 'combine') = 'string' THEN
        RETURN QUERY SELECT 'combined'::text, planned ->> 'combine';
    END IF;
END $$;
COMMENT ON FUNCTION build_sql(jsonb) IS
    'the SQL a query spec compiles to: one row per database, then the combine step as combined (totals mode); '
    'guarded, nothing run';

-- Runs a spec: fanout and totals as a stored plan (run_plan: progress, on_error, deadlines and cancelling as for
-- any plan; totals' rows come from the combine step, source_db combined); compare through compare(), each
-- difference one row, source_db compared.
CREATE FUNCTION build(spec jsonb) RETURNS TABLE (source_db text, row_data jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    planned jsonb := multidb.build_plan(spec);
    compare_key text[];
BEGIN
    IF planned ->> 'mode' = 'compare' THEN
        SELECT pg_catalog.array_agg(k ORDER BY n) INTO compare_key
          FROM pg_catalog.jsonb_array_elements_text(planned -> 'compare' -> 'key') WITH ORDINALITY x(k, n);
        RETURN QUERY
            SELECT 'compared'::text,
                   pg_catalog.jsonb_build_object('status', c.status, 'key', c.key, 'a_row', c.a_row, 'b_row', c.b_row)
              FROM multidb.compare(planned -> 'queries' -> 0 ->> 'sql', planned -> 'compare' ->> 'a',
                                   planned -> 'compare' ->> 'b', compare_key) c;
    ELSE
        RETURN QUERY
            SELECT r.source_db, r.row_data
              FROM multidb.run_plan(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                       'queries', planned -> 'queries', 'combine', planned -> 'combine'))) r;
    END IF;
END $$;
COMMENT ON FUNCTION build(jsonb) IS
    'runs a query spec: fanout rows tagged per database, totals as one combined result (source_db combined), '
    'compare as the differences between a and b (source_db compared, row_data {status, key, a_row, b_row})';

-- ================================================================================== reports of a spec

-- A report of a spec: compiled once now (a bad spec is refused when saved), kept as the canonical spec and
-- compiled again at each run against the schema cache of the day.
CREATE FUNCTION save_report_spec(name text, spec jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    planned jsonb := multidb.build_plan(spec);
    targets text[];
BEGIN
    IF planned ->> 'mode' = 'compare' THEN
        targets := ARRAY[planned -> 'compare' ->> 'a', planned -> 'compare' ->> 'b'];
    ELSE
        SELECT pg_catalog.array_agg(c ORDER BY n) INTO targets
          FROM pg_catalog.jsonb_array_elements_text(planned -> 'spec' -> 'connections') WITH ORDINALITY x(c, n);
    END IF;
    INSERT INTO multidb.reports (name, question, connections, plan)
    VALUES (name, planned ->> 'description', targets, pg_catalog.jsonb_build_object('spec', planned -> 'spec'));
END $$;
COMMENT ON FUNCTION save_report_spec(text, jsonb) IS
    'a report of a query spec: checked and compiled now, compiled again against the schema cache at each run';

-- As in 0.3, and a report saved from a spec ({"spec": ...}) runs through build().
CREATE OR REPLACE FUNCTION run_report(name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r        multidb.reports;
    run      bigint := nextval('multidb.report_run_ids');
    produced bigint := 0;
BEGIN
    SELECT * INTO r FROM multidb.reports WHERE reports.name = run_report.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'report "%" does not exist', name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM multidb.reports lists yours.';
    END IF;
    BEGIN
        IF r.plan ? 'sql' THEN
            INSERT INTO multidb.report_runs (report, run_id, status, source_db, row_data)
            SELECT r.name, run, 'ok', f.source_db, f.row_data FROM multidb.fanout(r.plan->>'sql', r.connections) f;
            GET DIAGNOSTICS produced = ROW_COUNT;
        ELSIF r.plan ? 'spec' THEN
            INSERT INTO multidb.report_runs (report, run_id, status, source_db, row_data)
            SELECT r.name, run, 'ok', f.source_db, f.row_data FROM multidb.build(r.plan->'spec') f;
            GET DIAGNOSTICS produced = ROW_COUNT;
        ELSE
            INSERT INTO multidb.report_runs (report, run_id, status, source_db, row_data)
            SELECT r.name, run, 'ok', f.source_db, f.row_data FROM multidb.run_plan(r.plan) f;
            GET DIAGNOSTICS produced = ROW_COUNT;
        END IF;
        IF produced = 0 THEN
            INSERT INTO multidb.report_runs (report, run_id, status) VALUES (r.name, run, 'ok');
        END IF;
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO multidb.report_runs (report, run_id, status, error) VALUES (r.name, run, 'failed', SQLERRM);
        RAISE WARNING 'report "%" run % failed: %', r.name, run, SQLERRM;
    END;
    RETURN run;
END $$;
COMMENT ON FUNCTION run_report(text) IS
    'runs a saved report now (its SQL, its frozen plan, or its spec compiled anew); a failed run is recorded as '
    'failed with a WARNING instead of raising. Returns the run id';

COMMENT ON COLUMN reports.plan IS
    '{"sql"} (save_report_sql), {"queries": [{database, sql}], "combine", "sets"} (save_report, '
    'save_report_from_history) or {"spec"} (save_report_spec: a query spec, compiled at each run)';
