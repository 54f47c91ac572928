-- multidb 0.3: the jobs people bring — connection groups first.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.3'" to load this file. \quit

-- A group names a list of connections. Wherever multidb takes a list of connections (fanout, fanout_rows,
-- sessions, ask), '@name' stands for the group's connections, in order: the '@' keeps a group apart from
-- a connection, whose name may not start with '@'. Using a group needs what using each member needs.
CREATE TABLE connection_groups (
    name        text PRIMARY KEY CHECK (name <> '' AND left(name, 1) <> '@'),
    connections text[] NOT NULL CHECK (cardinality(connections) > 0),
    owner       text NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE connection_groups IS 'named lists of connections, written @name wherever connections are listed';
SELECT pg_catalog.pg_extension_config_dump('connection_groups', '');
ALTER TABLE connection_groups ENABLE ROW LEVEL SECURITY;
-- Everyone may read and use a group (its members still need USAGE); only its owner changes it.
CREATE POLICY groups_readable ON connection_groups FOR SELECT USING (true);
CREATE POLICY groups_owned ON connection_groups FOR ALL USING (owner = current_user) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON connection_groups TO PUBLIC;

CREATE FUNCTION create_group(name text, connections text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF name IS NULL OR connections IS NULL OR cardinality(connections) = 0 THEN
        RAISE EXCEPTION 'a group needs a name and at least one connection' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    name := ltrim(name, '@');
    IF EXISTS (SELECT 1 FROM unnest(connections) c WHERE left(c, 1) = '@') THEN
        RAISE EXCEPTION 'group "%" would contain a group', name USING ERRCODE = 'invalid_parameter_value',
            HINT = 'List the connections themselves; groups do not nest.';
    END IF;
    PERFORM multidb.check_connections(connections);
    INSERT INTO multidb.connection_groups (name, connections) VALUES (name, connections);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'group "%" already exists', name USING ERRCODE = 'duplicate_object',
        HINT = 'multidb.drop_group() first, or pick another name.';
END $$;

CREATE FUNCTION drop_group(name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM multidb.connection_groups g WHERE g.name = ltrim(drop_group.name, '@');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "%" does not exist, or is not yours', ltrim(name, '@') USING ERRCODE = 'undefined_object';
    END IF;
END $$;

-- Data comparison: the same read-only query on two connections, in parallel; rows only in a, only in b,
-- and (with a key) rows whose other columns differ. Both sides arrive sorted the same way and are merged,
-- so neither is held in memory whole (the fetched rows spill to disk past work_mem).
CREATE FUNCTION compare(sql text, a text, b text, key text[] DEFAULT NULL)
    RETURNS TABLE (status text, key jsonb, a_row jsonb, b_row jsonb)
    AS 'MODULE_PATHNAME', 'multidb_compare' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION compare(text, text, text, text[]) IS
    'rows only_in_a, only_in_b, and (with key columns) different between two connections; nothing for rows that agree';

-- Schema comparison: tables, columns (type, nullability, default), indexes, constraints, views and functions
-- present on one side only or defined differently. Objects of extensions are left out (compare extension
-- versions instead). Read through fanout_rows, so both sides are read in parallel and guarded.
-- The schema cache's documents also hold the catalog objects schema_diff compares; catalog_version (a digest
-- of the remote catalogs when it was read) lets a cheap probe tell whether a cached document still holds.
ALTER TABLE schema_cache ADD COLUMN catalog_version text;

CREATE FUNCTION catalog_objects(connections text[], refresh boolean DEFAULT false)
    RETURNS TABLE (source_db text, object_kind text, object_name text, definition text)
    AS 'MODULE_PATHNAME', 'multidb_catalog_objects' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION catalog_objects(text[], boolean) IS
    'tables, columns, indexes, constraints, views and functions of each connection, from the schema cache while fresh';

CREATE FUNCTION schema_diff(a text, b text, refresh boolean DEFAULT false)
    RETURNS TABLE (object_kind text, object_name text, difference text, a_definition text, b_definition text)
LANGUAGE plpgsql AS $fn$
BEGIN
    IF a IS NULL OR b IS NULL OR a = b THEN
        RAISE EXCEPTION 'schema_diff needs two different connections' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH objects AS (SELECT * FROM multidb.catalog_objects(ARRAY[a, b], refresh)),
    side_a AS (SELECT o.object_kind AS kind, o.object_name AS name, o.definition FROM objects o WHERE o.source_db = a),
    side_b AS (SELECT o.object_kind AS kind, o.object_name AS name, o.definition FROM objects o WHERE o.source_db = b)
    SELECT kind, name,
           CASE WHEN side_b.definition IS NULL THEN 'only in ' || a
                WHEN side_a.definition IS NULL THEN 'only in ' || b
                ELSE 'different' END,
           side_a.definition, side_b.definition
      FROM side_a FULL JOIN side_b USING (kind, name)
     WHERE side_a.definition IS DISTINCT FROM side_b.definition
     ORDER BY CASE kind WHEN 'table' THEN 1 WHEN 'column' THEN 2 WHEN 'constraint' THEN 3 WHEN 'index' THEN 4
                        WHEN 'view' THEN 5 ELSE 6 END, name;
END $fn$;
COMMENT ON FUNCTION schema_diff(text, text, boolean) IS
    'tables, columns, indexes, constraints, views and functions present on one side only or defined differently';

-- A stored plan run as ask runs it, without the LLM: {"queries": [{"database", "sql"}], "combine": "..."} as
-- multidb.plan() shows it and multidb.query_history.plan keeps it.
CREATE FUNCTION run_plan(plan jsonb) RETURNS TABLE (source_db text, row_data jsonb)
    AS 'MODULE_PATHNAME', 'multidb_run_plan' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION run_plan(jsonb) IS 'run a stored plan (per-database SQL and combine step) without the LLM';

-- Saved reports: a question planned once (or plain SQL), frozen, run by hand or by pg_cron without an LLM.
CREATE TABLE reports (
    name        text PRIMARY KEY,
    question    text,
    connections text[] NOT NULL,     -- may hold @groups, expanded at each run
    plan        jsonb NOT NULL,      -- {"sql": ...} for save_report_sql, {"queries": [{database, sql}], "combine"} for save_report
    owner       text NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE report_run_ids;
CREATE TABLE report_runs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report     text NOT NULL REFERENCES reports ON DELETE CASCADE,
    run_id     bigint NOT NULL,
    run_at     timestamptz NOT NULL DEFAULT now(),
    status     text NOT NULL CHECK (status IN ('ok', 'failed')),
    error      text,
    source_db  text,                 -- NULL on the one row of a failed or empty run
    row_data   jsonb
);
CREATE INDEX ON report_runs (report, run_id);
SELECT pg_catalog.pg_extension_config_dump('reports', '');
SELECT pg_catalog.pg_extension_config_dump('report_runs', '');
ALTER TABLE reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_reports ON reports USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY own_report_runs ON report_runs
    USING (EXISTS (SELECT 1 FROM reports r WHERE r.name = report AND r.owner = current_user));
GRANT SELECT, INSERT, UPDATE, DELETE ON reports, report_runs TO PUBLIC;
GRANT USAGE ON SEQUENCE report_run_ids TO PUBLIC;

CREATE FUNCTION save_report_sql(name text, sql text, connections text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM multidb.check_sql(sql);
    PERFORM multidb.check_connections(connections);
    INSERT INTO multidb.reports (name, connections, plan) VALUES (name, connections, jsonb_build_object('sql', sql));
END $$;

CREATE FUNCTION save_report(name text, question text, session uuid DEFAULT NULL, connections text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    frozen jsonb;
    targets text[] := connections;
BEGIN
    SELECT jsonb_strip_nulls(jsonb_build_object(
               'queries', jsonb_agg(jsonb_build_object('database', p.source_db, 'sql', p.sql)) FILTER (WHERE NOT p.is_combine),
               'combine', max(p.sql) FILTER (WHERE p.is_combine)))
      INTO frozen
      FROM (SELECT q.source_db, q.sql, q.source_db = 'combined' AND q.n = count(*) OVER () AS is_combine
              FROM multidb.plan(question, session, connections) WITH ORDINALITY q(source_db, sql, n)) p;
    IF targets IS NULL THEN
        SELECT s.connections INTO targets FROM multidb.chat_sessions s WHERE s.id = session;
    END IF;
    INSERT INTO multidb.reports (name, question, connections, plan) VALUES (name, question, targets, frozen);
END $$;

-- Runs a report now: its rows go to report_runs under a new run id. A failed run is recorded as failed
-- (and a WARNING says so) instead of raising, so that the record survives, also in a pg_cron job.
CREATE FUNCTION run_report(name text) RETURNS bigint
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

CREATE FUNCTION schedule_report(name text, schedule text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM multidb.reports r WHERE r.name = schedule_report.name) THEN
        RAISE EXCEPTION 'report "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'feature_not_supported',
            HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, set cron.database_name '
                   'to this database, restart, then CREATE EXTENSION pg_cron.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
      USING 'multidb report ' || name, schedule, format('SELECT multidb.run_report(%L)', name);
    RETURN job;
END $$;

CREATE FUNCTION unschedule_report(name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'feature_not_supported';
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING 'multidb report ' || name;
END $$;

-- What changed between two runs (default: the last two): rows only in the newer run are 'added', rows
-- only in the older one 'removed'.
CREATE FUNCTION report_diff(name text, run_a bigint DEFAULT NULL, run_b bigint DEFAULT NULL)
    RETURNS TABLE (change text, source_db text, row_data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    older bigint := run_a;
    newer bigint := run_b;
BEGIN
    IF older IS NULL OR newer IS NULL THEN
        SELECT min(x.run_id), max(x.run_id) INTO older, newer
          FROM (SELECT DISTINCT rr.run_id FROM multidb.report_runs rr WHERE rr.report = report_diff.name
                 ORDER BY rr.run_id DESC LIMIT 2) x;
        IF older IS NULL OR older = newer THEN
            RAISE EXCEPTION 'report "%" has fewer than two runs', name USING ERRCODE = 'no_data_found';
        END IF;
    END IF;
    RETURN QUERY
    (SELECT 'added', n.source_db, n.row_data FROM multidb.report_runs n
      WHERE n.report = report_diff.name AND n.run_id = newer AND n.source_db IS NOT NULL
     EXCEPT ALL
     SELECT 'added', o.source_db, o.row_data FROM multidb.report_runs o
      WHERE o.report = report_diff.name AND o.run_id = older AND o.source_db IS NOT NULL)
    UNION ALL
    (SELECT 'removed', o.source_db, o.row_data FROM multidb.report_runs o
      WHERE o.report = report_diff.name AND o.run_id = older AND o.source_db IS NOT NULL
     EXCEPT ALL
     SELECT 'removed', n.source_db, n.row_data FROM multidb.report_runs n
      WHERE n.report = report_diff.name AND n.run_id = newer AND n.source_db IS NOT NULL);
END $$;
