-- multidb 0.8 -> 0.9: answers described without running them (describe), and answers as typed relations, so
-- that BI tools, which list relations and never functions, can use them (views).
-- A multidb view is a plain VIEW with the answer's column types (described on the remotes without running the
-- statement: multidb._describe_answer). A snapshot view reads a typed table in schema multidb_snapshots that
-- refresh_view (by hand or on a pg_cron schedule) fills; a live view fans out on every read. Each refresh checks
-- the remotes' description against the stored one (drift: a column removed, retyped or added).
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.9'" to load this file. \quit

-- ================================================================================== describing
-- Describing answers without running them (issue 20)
-- Each database prepares and describes the statement (never runs it) and names its columns' types; the types are
-- this coordinator's (text, with a NOTICE, for a type this database lacks).

CREATE FUNCTION describe(sql text, connections text[])
    RETURNS TABLE (source_db text, column_name text, column_type text)
    AS 'MODULE_PATHNAME', 'multidb_describe' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION describe(text, text[]) IS
    'the columns each database would return for a read-only statement, described without running it: in connection '
    'order, columns in order, typed with this database''s type names (text where it lacks the remote''s type)';

CREATE FUNCTION _describe_answer(plan jsonb, connections text[] DEFAULT NULL, merge boolean DEFAULT true) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'multidb__describe_answer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION _describe_answer(jsonb, text[], boolean) IS
    'internal: the columns an answer would have, described without running it: a plan {"sql": ...} on the '
    'connections, or an ask''s plan (its steps on their databases, its combine step prepared here); '
    '{"columns", "databases", "combine"}; merge => false leaves the databases'' descriptions unmerged '
    '("columns": [], for a drift check)';

CREATE FUNCTION _description_drift(stored jsonb, now jsonb)
    RETURNS TABLE (change text, column_name text, database text, expected text, found text)
    AS 'MODULE_PATHNAME', 'multidb__description_drift' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION _description_drift(jsonb, jsonb) IS
    'internal: how a description made now (as _describe_answer returns it) differs from a stored one: columns '
    'removed, added or retyped, per database; no rows when nothing drifted';

-- ===================================================================================================== views

-- The plan of a question, frozen as save_report freezes it: the SQL per database and the combine step, so that
-- a run never calls the LLM. One place for save_report, create_view and rebind_view.
CREATE FUNCTION _frozen_plan(question text, session uuid, connections text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    frozen jsonb;
BEGIN
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
               'queries', pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('database', p.source_db, 'sql', p.sql))
                              FILTER (WHERE NOT p.is_combine),
               'combine', max(p.sql) FILTER (WHERE p.is_combine)))
      INTO frozen
      FROM (SELECT q.source_db, q.sql, q.source_db = 'combined' AND q.n = count(*) OVER () AS is_combine
              FROM multidb.plan(question, session, connections) WITH ORDINALITY q(source_db, sql, n)) p;
    RETURN frozen;
END $$;
COMMENT ON FUNCTION _frozen_plan(text, uuid, text[]) IS
    'a question planned once and frozen: {"queries": [{database, sql}], "combine"} (save_report, create_view)';

CREATE OR REPLACE FUNCTION save_report(name text, question text, session uuid DEFAULT NULL, connections text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    frozen jsonb;
    targets text[] := connections;
BEGIN
    IF session IS NULL AND targets IS NULL THEN
        targets := multidb.default_connections();
    END IF;
    frozen := multidb._frozen_plan(question, session, targets);
    IF targets IS NULL THEN
        SELECT s.connections INTO targets FROM multidb.chat_sessions s WHERE s.id = session;
    END IF;
    INSERT INTO multidb.reports (name, question, connections, plan) VALUES (name, question, targets, frozen);
END $$;

-- pg_cron's checks before a job is scheduled, for schedule_report and schedule_view: pg_cron is installed here,
-- and (without background workers) can connect as the caller to run the job. what names the job's object in
-- the messages: 'report "x"', 'view "s.v"'.
CREATE FUNCTION _check_cron(what text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    problem text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'feature_not_supported',
            HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, set cron.database_name '
                   'to this database and cron.use_background_workers = on, restart, then CREATE EXTENSION pg_cron.';
    END IF;
    -- With background workers pg_cron needs no connection; without, it connects as the caller does here.
    IF NOT multidb._cron_uses_background_workers() THEN
        problem := multidb._cron_connection_problem();
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'pg_cron could not connect to run %: %', what, problem
                USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                DETAIL = format('With cron.use_background_workers off, pg_cron runs each job over libpq: host %s, '
                                'port %s, database %s, user %s, without a password.',
                                multidb._cron_host(),
                                current_setting('port'), current_database(), current_user),
                HINT = format('Set cron.use_background_workers = on in postgresql.conf and restart the server (no '
                              'connection needed), or let that connection in: a pg_hba.conf line such as '
                              '"host %s %s 127.0.0.1/32 trust" (and ::1/128 for localhost) then SELECT '
                              'pg_reload_conf(), or a .pgpass entry of the server''s OS user.',
                              current_database(), current_user);
        END IF;
    END IF;
    PERFORM multidb._watch_cron();
END $$;
COMMENT ON FUNCTION _check_cron(text) IS
    'whether pg_cron can run a job of the caller here: an ERROR saying what to do when it cannot';

CREATE OR REPLACE FUNCTION schedule_report(name text, schedule text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM multidb.reports r WHERE r.name = schedule_report.name) THEN
        RAISE EXCEPTION 'report "%" does not exist', name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM multidb.reports lists yours.';
    END IF;
    PERFORM multidb._check_cron(format('report "%s"', name));
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
      USING 'multidb report ' || name, schedule, format('SELECT multidb.run_report(%L)', name);
    RETURN job;
END $$;

-- The tables snapshots are kept in. Everyone may read the schema's names (USAGE); nobody creates in it but
-- _create_snapshot_table, so that a snapshot table's name never collides with a user's own table.
CREATE SCHEMA multidb_snapshots;
GRANT USAGE ON SCHEMA multidb_snapshots TO PUBLIC;
COMMENT ON SCHEMA multidb_snapshots IS
    'the snapshots of multidb''s snapshot views: one typed table per view, owned by the view''s owner';
CREATE SEQUENCE snapshot_table_ids;
SELECT pg_catalog.pg_extension_config_dump('snapshot_table_ids', '');

-- The saved views: what each is (question or SQL, connections, frozen plan, mode), its description when it was
-- made or rebound, and how its last refresh went. A role sees and changes only its own rows.
CREATE TABLE saved_views (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_schema    name NOT NULL,
    view_name      name NOT NULL,
    owner          name NOT NULL DEFAULT current_user,
    question       text,                 -- create_view's question; NULL for create_view_sql
    sql            text,                 -- create_view_sql's statement; NULL for create_view
    description    text,                 -- create_view_sql's description
    session        uuid,                 -- create_view's session, when given
    connections    text[] NOT NULL,      -- may hold @groups, expanded at each run
    plan           jsonb NOT NULL,       -- {"sql"} or the frozen {"queries", "combine"}
    mode           text NOT NULL CHECK (mode IN ('snapshot', 'live')),
    on_drift       text NOT NULL CHECK (on_drift IN ('fail', 'evolve')),
    described      jsonb NOT NULL,       -- multidb._describe_answer's document the view's columns come from
    snapshot_table name,                 -- in schema multidb_snapshots; NULL for a live view
    schedule       text,
    job            bigint,
    status         text NOT NULL DEFAULT 'never' CHECK (status IN ('ok', 'failed', 'drift', 'never')),
    last_refresh   timestamptz,
    last_attempt   timestamptz,
    error          text,
    drift          jsonb,
    row_count      bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (view_schema, view_name)
);
COMMENT ON TABLE saved_views IS 'multidb''s views: what each answers, its columns as described, its last refresh';
SELECT pg_catalog.pg_extension_config_dump('saved_views', '');
ALTER TABLE saved_views ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_views ON saved_views USING (owner = current_user) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON saved_views TO PUBLIC;

-- The caller's views. security_invoker, so that the table's policy applies to the caller, not to the owner of
-- this view (the superuser who made the extension); the owner test again so that a superuser, whom the policy
-- lets through, sees only their own too.
CREATE VIEW views WITH (security_invoker = true) AS
SELECT pg_catalog.format('%I.%I', v.view_schema, v.view_name) AS view,
       v.mode, v.question, coalesce(v.sql, v.plan ->> 'sql') AS sql, v.connections, v.plan,
       v.described -> 'columns' AS columns, v.on_drift, v.schedule, v.job, v.status, v.last_refresh,
       v.last_attempt, v.error, v.drift, v.row_count, v.owner, v.created_at
  FROM multidb.saved_views v
 WHERE v.owner = current_user;
COMMENT ON VIEW views IS 'your multidb views: what each answers, its columns, mode, schedule and last refresh';
GRANT SELECT ON views TO PUBLIC;

-- A new, empty snapshot table multidb_snapshots.snapshot_<n> (source_db text, _as_of timestamptz) owned by
-- owner; the caller adds the answer's columns (ALTER TABLE as the owner), so no text of the caller's reaches
-- DDL run here. Only for an owner the session's role could become anyway (SET ROLE): the gateway's
-- authenticator for the roles granted to it, a role for itself.
CREATE FUNCTION _create_snapshot_table(owner name) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_name name;
BEGIN
    IF owner IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = owner)
       OR NOT pg_catalog.pg_has_role(session_user, owner, 'MEMBER') THEN
        RAISE EXCEPTION 'role "%" may not make a snapshot table for role "%"', session_user, owner
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'A snapshot table is made for the role creating the view, one the session''s role is a member of.';
    END IF;
    -- A restored database may hold tables of numbers the sequence has not reached: skip them (bounded).
    FOR attempt IN 1 .. 1000 LOOP
        table_name := 'snapshot_' || pg_catalog.nextval('multidb.snapshot_table_ids');
        EXIT WHEN pg_catalog.to_regclass(pg_catalog.format('multidb_snapshots.%I', table_name)) IS NULL;
        table_name := NULL;
    END LOOP;
    IF table_name IS NULL THEN
        RAISE EXCEPTION 'no free snapshot table name in schema multidb_snapshots' USING ERRCODE = 'duplicate_table',
            HINT = 'SELECT setval(''multidb.snapshot_table_ids'', <the highest snapshot_<n> there>) as a superuser.';
    END IF;
    -- A refresh deletes every row of the old snapshot and inserts the new one, so that readers never wait: until a
    -- vacuum, a scan also passes over the old snapshot's dead rows. Autovacuum is told to come after any refresh of
    -- more than a thousand rows (at its next naptime) instead of after a fifth of the table changed.
    EXECUTE pg_catalog.format('CREATE TABLE multidb_snapshots.%I (source_db text NOT NULL, _as_of timestamptz NOT NULL) '
                              'WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)',
                              table_name);
    EXECUTE pg_catalog.format('ALTER TABLE multidb_snapshots.%I OWNER TO %I', table_name, owner);
    RETURN table_name;
END $$;
-- Left executable by everyone: create_view and rebind_view, run by any role, call it; its check is its guard.
COMMENT ON FUNCTION _create_snapshot_table(name) IS
    'an empty snapshot table (source_db, _as_of) in multidb_snapshots for a role the session''s role can become';

-- The saved view behind a relation, if it is one of the caller's; else 42704.
CREATE FUNCTION _saved_view(view regclass) RETURNS multidb.saved_views
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_view multidb.saved_views;
BEGIN
    SELECT v.* INTO found_view
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN multidb.saved_views v ON v.view_schema = n.nspname AND v.view_name = c.relname
     WHERE c.oid = view AND v.owner = current_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'view % is not a multidb view of yours',
              coalesce((SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
                          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = view), view::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT view FROM multidb.views lists yours; multidb.create_view() or create_view_sql() makes one.';
    END IF;
    RETURN found_view;
END $$;

-- A described document's columns, checked: names that are not source_db or _as_of, types that are one type
-- name each (so that they can be written into DDL as they are). Returns them as (name, type) rows, in order.
CREATE FUNCTION _view_columns(described jsonb, view_label text)
    RETURNS TABLE (name text, type text, ord bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c record;
BEGIN
    IF pg_catalog.jsonb_typeof(described -> 'columns') IS DISTINCT FROM 'array'
       OR pg_catalog.jsonb_array_length(described -> 'columns') = 0 THEN
        RAISE EXCEPTION 'view %: the answer has no columns', view_label USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A view needs a statement that returns at least one column.';
    END IF;
    FOR c IN SELECT x.value ->> 'name' AS name, x.value ->> 'type' AS type, x.ordinality AS ord
               FROM pg_catalog.jsonb_array_elements(described -> 'columns') WITH ORDINALITY x LOOP
        IF c.name IN ('source_db', '_as_of') THEN
            RAISE EXCEPTION 'view %: the answer has a column named %, which the view uses for its own', view_label, c.name
                USING ERRCODE = 'duplicate_column',
                      HINT = format('Alias it in the statement or ask for another name: ... AS %I.', c.name || '_1');
        END IF;
        IF c.name IS NULL OR c.name = '' OR c.type IS NULL THEN
            RAISE EXCEPTION 'view %: a described column has no name or no type', view_label
                USING ERRCODE = 'invalid_parameter_value', DETAIL = described::text;
        END IF;
        BEGIN
            IF pg_catalog.to_regtype(c.type) IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'undefined_object';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'view %: column % has the type "%", which is not a type here', view_label, c.name, c.type
                USING ERRCODE = 'undefined_object', HINT = 'Cast the column to text in the statement.';
        END;
        name := c.name;
        type := c.type;
        ord := c.ord;
        RETURN NEXT;
    END LOOP;
END $$;

-- The SELECT behind a view: source_db and the answer's typed columns, as fanout_rows (a SQL view) or run_plan
-- (a question's frozen plan) return them. Every name and literal is quoted, every reference schema-qualified.
CREATE FUNCTION _answer_select(plan jsonb, connections text[], described jsonb, view_label text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    picked text;
    typed  text;
BEGIN
    SELECT string_agg(format('a.%I', c.name), ', ' ORDER BY c.ord),
           string_agg(format('%I %s', c.name, c.type), ', ' ORDER BY c.ord)
      INTO picked, typed
      FROM multidb._view_columns(described, view_label) c;
    IF plan ? 'sql' THEN
        RETURN format('SELECT a.source_db, %s FROM multidb.fanout_rows(%L::text, %L::text[]) AS a(source_db text, %s)',
                      picked, plan ->> 'sql', connections, typed);
    END IF;
    RETURN format('SELECT r.source_db, %s FROM multidb.run_plan(%L::jsonb) AS r, '
                  'pg_catalog.jsonb_to_record(r.row_data) AS a(%s)', picked, plan, typed);
END $$;

-- A refresh's failure (of the describe, the drift check or the fan-out) recorded and said in a WARNING.
CREATE FUNCTION _record_view_failure(view_id bigint, view_label text, new_status text, reason text, drifted jsonb)
    RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE multidb.saved_views v SET status = new_status, error = reason, drift = drifted WHERE v.id = view_id;
    RAISE WARNING 'refresh of view % failed: %', view_label, reason
        USING HINT = CASE new_status
                     WHEN 'drift' THEN format('multidb.check_view(%L) shows the differences; multidb.rebind_view(%L) '
                                              'takes the new columns (on_drift => ''evolve'' takes added ones by itself).',
                                              view_label, view_label)
                     ELSE 'The view still serves its last snapshot; multidb.views shows the failure.' END;
END $$;

-- What the remotes describe now, for a drift check: merged while the databases still agree with each other, else each
-- database's own description without answer columns, so that a column one database retyped or dropped alone is a
-- difference listed against that database rather than the merge's ERROR.
CREATE FUNCTION _describe_now(saved multidb.saved_views) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    RETURN multidb._describe_answer(saved.plan, saved.connections);
EXCEPTION WHEN datatype_mismatch OR invalid_table_definition THEN
    RETURN multidb._describe_answer(saved.plan, saved.connections, merge => false);
END $$;

-- Fills a snapshot view's table anew: (optionally) re-describes and checks drift, then replaces the rows in one
-- subtransaction. Returns the number of rows, or NULL when it failed (recorded, WARNING; the old rows stay).
CREATE FUNCTION _refresh(saved multidb.saved_views, redescribe boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    label    text := format('%I.%I', saved.view_schema, saved.view_name);
    storage  text := format('multidb_snapshots.%I', saved.snapshot_table);
    now_doc  jsonb;
    drifted  jsonb;
    reasons  text;
    only_add boolean;
    kept     text;
    added    text;
    produced bigint;
BEGIN
    -- Serialises refreshes of this view; readers (ACCESS SHARE) are never blocked.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', storage);
    -- As a refresh that held the lock before this one left it (an evolve may have changed its columns).
    SELECT * INTO saved FROM multidb.saved_views v WHERE v.id = saved.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'view % was dropped while its refresh waited', label USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE multidb.saved_views v SET last_attempt = now() WHERE v.id = saved.id;
    IF redescribe THEN
        BEGIN
            now_doc := multidb._describe_now(saved);
        EXCEPTION WHEN OTHERS THEN
            PERFORM multidb._record_view_failure(saved.id, label, 'failed', SQLSTATE || ': ' || SQLERRM, NULL);
            RETURN NULL;
        END;
        SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(d)), bool_and(d.change = 'added'),
               string_agg(format('%s %s on %s: expected %s, found %s', d.column_name, d.change,
                                 coalesce(d.database, 'every database'), coalesce(d.expected, 'nothing'),
                                 coalesce(d.found, 'nothing')), '; ')
          INTO drifted, only_add, reasons
          FROM multidb._description_drift(saved.described, now_doc) d;
        -- Evolving needs the answer's columns now, which databases that disagree with each other have not got.
        IF drifted IS NOT NULL AND NOT (only_add AND saved.on_drift = 'evolve'
                                        AND pg_catalog.jsonb_array_length(now_doc -> 'columns') > 0) THEN
            PERFORM multidb._record_view_failure(saved.id, label, 'drift', 'the answer''s columns drifted: ' || reasons,
                                                 drifted);
            RETURN NULL;
        END IF;
        IF drifted IS NOT NULL THEN
            -- evolve: the added columns go at the end of the table and of the view (a brief ACCESS EXCLUSIVE lock on
            -- the view for CREATE OR REPLACE VIEW).
            SELECT string_agg(format('ADD COLUMN %I %s', c.name, c.type), ', ' ORDER BY c.ord),
                   string_agg(format('%I', c.name), ', ' ORDER BY c.ord)
              INTO added, kept
              FROM multidb._view_columns(now_doc, label) c
             WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(saved.described -> 'columns') o
                                WHERE o.value ->> 'name' = c.name);
            EXECUTE format('ALTER TABLE %s %s', storage, added);
            SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) || ', ' || kept INTO kept
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = format('%I.%I', saved.view_schema, saved.view_name)::regclass
               AND a.attnum > 0 AND NOT a.attisdropped;
            EXECUTE format('CREATE OR REPLACE VIEW %s AS SELECT %s FROM %s', label, kept, storage);
            UPDATE multidb.saved_views v SET described = now_doc WHERE v.id = saved.id;
            saved.described := now_doc;
            RAISE NOTICE 'view %: columns added by the remotes appended: %', label,
                (SELECT string_agg(DISTINCT format('%s (%s)', d ->> 'column_name', d ->> 'found'), ', ')
                   FROM pg_catalog.jsonb_array_elements(drifted) d);
        END IF;
    END IF;
    BEGIN
        EXECUTE format('DELETE FROM %s', storage);
        SELECT string_agg(format('%I', c.name), ', ' ORDER BY c.ord) INTO kept
          FROM multidb._view_columns(saved.described, label) c;
        EXECUTE format('INSERT INTO %s (source_db, _as_of, %s) SELECT q.source_db, pg_catalog.now(), %s FROM (%s) q',
                       storage, kept, (SELECT string_agg(format('q.%I', c.name), ', ' ORDER BY c.ord)
                                         FROM multidb._view_columns(saved.described, label) c),
                       multidb._answer_select(saved.plan, saved.connections, saved.described, label));
        GET DIAGNOSTICS produced = ROW_COUNT;
    EXCEPTION WHEN OTHERS THEN
        PERFORM multidb._record_view_failure(saved.id, label, 'failed', SQLSTATE || ': ' || SQLERRM, NULL);
        RETURN NULL;
    END;
    UPDATE multidb.saved_views v
       SET status = 'ok', last_refresh = now(), row_count = produced, error = NULL, drift = NULL
     WHERE v.id = saved.id;
    RETURN produced;
END $$;

-- Builds the relations of a saved view from its described columns: for a snapshot view a new table and the view
-- over it, for a live view the view over the fan-out. Returns the snapshot table's name (NULL for live).
CREATE FUNCTION _build_view(saved multidb.saved_views, comment text) RETURNS name
LANGUAGE plpgsql AS $$
DECLARE
    label   text := format('%I.%I', saved.view_schema, saved.view_name);
    storage name;
    columns text;
BEGIN
    SELECT string_agg(format('%I', c.name), ', ' ORDER BY c.ord) INTO columns
      FROM multidb._view_columns(saved.described, label) c;
    IF saved.mode = 'snapshot' THEN
        storage := multidb._create_snapshot_table(current_user);
        EXECUTE format('ALTER TABLE multidb_snapshots.%I %s', storage,
                       (SELECT string_agg(format('ADD COLUMN %I %s', c.name, c.type), ', ' ORDER BY c.ord)
                          FROM multidb._view_columns(saved.described, label) c));
        EXECUTE format('COMMENT ON TABLE multidb_snapshots.%I IS %L', storage, 'the snapshot of view ' || label);
        EXECUTE format('CREATE VIEW %s AS SELECT source_db, _as_of, %s FROM multidb_snapshots.%I', label, columns, storage);
    ELSE
        EXECUTE format('CREATE VIEW %s WITH (security_invoker = true) AS %s', label,
                       multidb._answer_select(saved.plan, saved.connections, saved.described, label));
    END IF;
    EXECUTE format('COMMENT ON VIEW %s IS %L', label, comment);
    RETURN storage;
END $$;

-- A pg_cron job refreshing a view; returns its id.
CREATE FUNCTION _schedule_view(saved multidb.saved_views, schedule text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    label text := format('%I.%I', saved.view_schema, saved.view_name);
    new_job bigint;
BEGIN
    IF saved.mode <> 'snapshot' THEN
        RAISE EXCEPTION 'view % is live: every read runs it, there is nothing to refresh on a schedule', label
            USING ERRCODE = 'feature_not_supported', HINT = 'Only a snapshot view (mode => ''snapshot'') takes a schedule.';
    END IF;
    PERFORM multidb._check_cron(format('view %s', label));
    IF saved.job IS NOT NULL THEN
        EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job j WHERE j.jobid = $1' USING saved.job;
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO new_job
      USING 'multidb view ' || label, schedule, format('SELECT multidb._refresh_scheduled_view(%s)', saved.id);
    UPDATE multidb.saved_views v SET schedule = _schedule_view.schedule, job = new_job WHERE v.id = saved.id;
    RETURN new_job;
END $$;

-- The work of create_view and create_view_sql, once the plan is known.
CREATE FUNCTION _create_view(target text, question text, sql text, description text, session uuid,
                             connections text[], plan jsonb, mode text, schedule text, on_drift text)
    RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    parts  text[];
    in_schema name;
    saved  multidb.saved_views;
    made   regclass;
    label  text;
    stale  multidb.saved_views;
BEGIN
    IF target IS NULL OR target = '' THEN
        RAISE EXCEPTION 'a view needs a name' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    parts := pg_catalog.parse_ident(target);
    IF cardinality(parts) > 2 THEN
        RAISE EXCEPTION 'view name "%" has too many parts', target USING ERRCODE = 'invalid_name',
            HINT = 'Write name or schema.name.';
    END IF;
    IF cardinality(parts) = 2 THEN
        in_schema := parts[1];
    ELSE
        in_schema := (pg_catalog.current_schemas(false))[1];
        IF in_schema IS NULL THEN
            RAISE EXCEPTION 'no schema to create view "%" in', target USING ERRCODE = 'invalid_schema_name',
                HINT = 'Qualify the name (schema.view), or set a search_path whose first schema exists.';
        END IF;
    END IF;
    label := format('%I.%I', in_schema, parts[cardinality(parts)]);
    IF mode IS NULL OR mode NOT IN ('snapshot', 'live') THEN
        RAISE EXCEPTION 'view %: mode is ''snapshot'' or ''live'', not %', label, coalesce(quote_literal(mode), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF on_drift IS NULL OR on_drift NOT IN ('fail', 'evolve') THEN
        RAISE EXCEPTION 'view %: on_drift is ''fail'' or ''evolve'', not %', label, coalesce(quote_literal(on_drift), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF mode = 'live' AND schedule IS NOT NULL THEN
        RAISE EXCEPTION 'view % is live: every read runs it, there is nothing to refresh on a schedule', label
            USING ERRCODE = 'feature_not_supported', HINT = 'Only a snapshot view (mode => ''snapshot'') takes a schedule.';
    END IF;
    -- A multidb view of the caller's of this name whose view a plain DROP VIEW removed: forgotten, with its job and
    -- its snapshot table, so that the name can be used again.
    FOR stale IN SELECT * FROM multidb.saved_views v
                  WHERE v.view_schema = in_schema AND v.view_name = parts[cardinality(parts)] AND v.owner = current_user
                    AND pg_catalog.to_regclass(label) IS NULL LOOP
        IF stale.job IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
            EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job j WHERE j.jobid = $1' USING stale.job;
        END IF;
        IF stale.snapshot_table IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS multidb_snapshots.%I', stale.snapshot_table);
        END IF;
        DELETE FROM multidb.saved_views v WHERE v.id = stale.id;
        RAISE NOTICE 'view % was dropped without multidb.drop_view(): its schedule and snapshot are gone too', label;
    END LOOP;
    INSERT INTO multidb.saved_views (view_schema, view_name, question, sql, description, session, connections, plan,
                                     mode, on_drift, described)
    VALUES (in_schema, parts[cardinality(parts)], question, sql, description, session, connections, plan, mode, on_drift,
            multidb._describe_answer(plan, connections))
    RETURNING * INTO saved;
    saved.snapshot_table := multidb._build_view(saved, coalesce(question, description, sql));
    UPDATE multidb.saved_views v SET snapshot_table = saved.snapshot_table WHERE v.id = saved.id;
    made := label::regclass;
    IF mode = 'snapshot' THEN
        PERFORM multidb._refresh(saved, false);
        IF schedule IS NOT NULL THEN
            PERFORM multidb._schedule_view(saved, schedule);
        END IF;
    END IF;
    RETURN made;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'view % is already a multidb view', label USING ERRCODE = 'duplicate_object',
        HINT = format('multidb.drop_view(%L) first, or pick another name.', label);
END $$;

CREATE FUNCTION create_view_sql(view text, sql text, connections text[] DEFAULT NULL, mode text DEFAULT 'snapshot',
                                schedule text DEFAULT NULL, on_drift text DEFAULT 'fail', description text DEFAULT NULL)
    RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    targets text[] := connections;
BEGIN
    IF sql IS NULL THEN
        RAISE EXCEPTION 'view "%" needs a statement', view USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM multidb.check_sql(sql);
    IF targets IS NULL THEN
        targets := multidb.default_connections();
    END IF;
    PERFORM multidb.check_connections(targets);
    RETURN multidb._create_view(view, NULL, sql, description, NULL, targets, pg_catalog.jsonb_build_object('sql', sql),
                                mode, schedule, on_drift);
END $$;
COMMENT ON FUNCTION create_view_sql(text, text, text[], text, text, text, text) IS
    'a view of one statement fanned out to connections, with its described column types: a snapshot refreshed '
    'by refresh_view (or a schedule), or live';

CREATE FUNCTION create_view(view text, question text, session uuid DEFAULT NULL, connections text[] DEFAULT NULL,
                            mode text DEFAULT 'snapshot', schedule text DEFAULT NULL, on_drift text DEFAULT 'fail')
    RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    targets text[] := connections;
    frozen  jsonb;
BEGIN
    IF question IS NULL THEN
        RAISE EXCEPTION 'view "%" needs a question', view USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF session IS NULL AND targets IS NULL THEN
        targets := multidb.default_connections();
    END IF;
    frozen := multidb._frozen_plan(question, session, targets);
    IF targets IS NULL THEN
        SELECT s.connections INTO targets FROM multidb.chat_sessions s WHERE s.id = session;
    END IF;
    RETURN multidb._create_view(view, question, NULL, NULL, session, targets, frozen, mode, schedule, on_drift);
END $$;
COMMENT ON FUNCTION create_view(text, text, uuid, text[], text, text, text) IS
    'a view of a question, planned once by the LLM and frozen, with its described column types: a snapshot '
    'refreshed by refresh_view (or a schedule), or live';

CREATE FUNCTION refresh_view(view regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    saved multidb.saved_views := multidb._saved_view(view);
BEGIN
    IF saved.mode <> 'snapshot' THEN
        RAISE EXCEPTION 'view %.% is live: every read runs it, there is nothing to refresh',
                        quote_ident(saved.view_schema), quote_ident(saved.view_name)
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('multidb.check_view(%L) checks its columns.',
                                format('%I.%I', saved.view_schema, saved.view_name));
    END IF;
    RETURN multidb._refresh(saved, true);
END $$;
COMMENT ON FUNCTION refresh_view(regclass) IS
    'a snapshot view''s rows fetched anew (its columns checked first); NULL, a WARNING and the failure recorded '
    'when that fails, the old rows kept';

CREATE FUNCTION check_view(view regclass)
    RETURNS TABLE (change text, column_name text, database text, expected text, found text)
LANGUAGE plpgsql AS $$
DECLARE
    saved multidb.saved_views := multidb._saved_view(view);
BEGIN
    RETURN QUERY SELECT d.change, d.column_name, d.database, d.expected, d.found
                   FROM multidb._description_drift(saved.described, multidb._describe_now(saved)) d;
END $$;
COMMENT ON FUNCTION check_view(regclass) IS
    'how the remotes'' description of a view''s answer differs now from its columns: no rows, no drift';

CREATE FUNCTION rebind_view(view regclass, replan boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    saved      multidb.saved_views := multidb._saved_view(view);
    label      text := format('%I.%I', saved.view_schema, saved.view_name);
    dependents text;
    acl        aclitem[];
    note       text;
    old_table  name := saved.snapshot_table;
    grant_row  record;
BEGIN
    IF replan THEN
        IF saved.question IS NULL THEN
            RAISE EXCEPTION 'view % is a view of SQL: there is no question to plan again', label
                USING ERRCODE = 'feature_not_supported',
                HINT = format('multidb.rebind_view(%L) takes the statement''s columns as the remotes describe them now.',
                              label);
        END IF;
        saved.plan := multidb._frozen_plan(saved.question,
                                           (SELECT s.id FROM multidb.chat_sessions s WHERE s.id = saved.session),
                                           saved.connections);
    END IF;
    SELECT string_agg(DISTINCT r.ev_class::regclass::text, ', ') INTO dependents
      FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
     WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
       AND d.refobjid = view AND r.ev_class <> view;
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION 'view % cannot be rebound: other views depend on it: %', label, dependents
            USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Drop them first and make them again after, or let the view take added columns by itself with '
                   'on_drift => ''evolve'' (its columns are only appended).';
    END IF;
    saved.described := multidb._describe_answer(saved.plan, saved.connections);
    SELECT c.relacl, pg_catalog.obj_description(c.oid, 'pg_class') INTO acl, note
      FROM pg_catalog.pg_class c WHERE c.oid = view;
    EXECUTE format('DROP VIEW %s', label);
    saved.snapshot_table := multidb._build_view(saved, note);
    IF old_table IS NOT NULL THEN
        EXECUTE format('DROP TABLE multidb_snapshots.%I', old_table);
    END IF;
    -- The view's grants, as they were (the owner's own are the new view's already).
    FOR grant_row IN SELECT a.privilege_type, a.grantee, a.is_grantable
                       FROM pg_catalog.aclexplode(acl) a
                      WHERE a.grantee <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', grant_row.privilege_type, label,
                       CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_catalog.pg_get_userbyid(grant_row.grantee)) END,
                       CASE WHEN grant_row.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    UPDATE multidb.saved_views v
       SET plan = saved.plan, described = saved.described, snapshot_table = saved.snapshot_table,
           status = CASE WHEN saved.mode = 'snapshot' THEN v.status ELSE 'never' END, drift = NULL,
           error = CASE WHEN saved.mode = 'snapshot' THEN v.error END
     WHERE v.id = saved.id;
    IF saved.mode = 'snapshot' THEN
        PERFORM multidb._refresh(saved, false);
    END IF;
END $$;
COMMENT ON FUNCTION rebind_view(regclass, boolean) IS
    'a view made again with its answer''s columns as the remotes describe them now (replan => true: its question '
    'planned again), its grants and comment kept, then refreshed';

CREATE FUNCTION drop_view(view regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    saved multidb.saved_views := multidb._saved_view(view);
BEGIN
    IF saved.job IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job j WHERE j.jobid = $1' USING saved.job;
    END IF;
    EXECUTE format('DROP VIEW %I.%I', saved.view_schema, saved.view_name);
    IF saved.snapshot_table IS NOT NULL THEN
        EXECUTE format('DROP TABLE IF EXISTS multidb_snapshots.%I', saved.snapshot_table);
    END IF;
    DELETE FROM multidb.saved_views v WHERE v.id = saved.id;
END $$;
COMMENT ON FUNCTION drop_view(regclass) IS 'a multidb view dropped with its schedule and its snapshot';

CREATE FUNCTION schedule_view(view regclass, schedule text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule_view needs a schedule' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'A cron schedule such as ''*/5 * * * *''; multidb.unschedule_view() removes one.';
    END IF;
    RETURN multidb._schedule_view(multidb._saved_view(view), schedule);
END $$;
COMMENT ON FUNCTION schedule_view(regclass, text) IS
    'a pg_cron job "multidb view <schema>.<name>" refreshing a snapshot view (replacing its schedule if it had one)';

CREATE FUNCTION unschedule_view(view regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    saved multidb.saved_views := multidb._saved_view(view);
BEGIN
    IF saved.job IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job j WHERE j.jobid = $1' USING saved.job;
    END IF;
    UPDATE multidb.saved_views v SET schedule = NULL, job = NULL WHERE v.id = saved.id;
END $$;
COMMENT ON FUNCTION unschedule_view(regclass) IS 'a view''s pg_cron job removed';

-- What a view's pg_cron job runs. A view dropped by a plain DROP VIEW (or its saved row gone) leaves no job
-- failing forever: the job unschedules itself, drops what is left, and says so in a WARNING.
CREATE FUNCTION _refresh_scheduled_view(view_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    saved  multidb.saved_views;
    target regclass;
    jobs   text;
BEGIN
    SELECT * INTO saved FROM multidb.saved_views v WHERE v.id = view_id AND v.owner = current_user;
    IF FOUND THEN
        target := pg_catalog.to_regclass(format('%I.%I', saved.view_schema, saved.view_name));
        IF target IS NOT NULL AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = target) = 'v' THEN
            RETURN multidb._refresh(saved, true);
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT string_agg(j.jobname, '', '') FROM cron.job j, cron.unschedule(j.jobid) u '
                'WHERE j.command = $1 AND j.username = current_user'
           INTO jobs USING format('SELECT multidb._refresh_scheduled_view(%s)', view_id);
    END IF;
    IF saved.id IS NOT NULL THEN
        IF saved.snapshot_table IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS multidb_snapshots.%I', saved.snapshot_table);
        END IF;
        DELETE FROM multidb.saved_views v WHERE v.id = saved.id;
    END IF;
    RAISE WARNING 'multidb view % no longer exists: its job % is unscheduled%',
        coalesce(format('%I.%I', saved.view_schema, saved.view_name), '#' || view_id), coalesce(jobs, '(none left)'),
        CASE WHEN saved.id IS NOT NULL THEN ' and its snapshot dropped' ELSE '' END
        USING HINT = 'multidb.drop_view() drops a view with its schedule and snapshot.';
    RETURN NULL;
END $$;
COMMENT ON FUNCTION _refresh_scheduled_view(bigint) IS
    'a view''s pg_cron job: refresh_view, or, when the view is gone, its job unscheduled and its leftovers dropped';

-- A view's pg_cron job that pg_cron could not run (it could not connect) is a failed refresh too: recorded on the
-- view, as a report's is in report_runs. The same trigger function as 0.7's, with the branch for view jobs
-- ("multidb view <schema>.<name>", found by their job id and owner).
CREATE OR REPLACE FUNCTION _record_cron_failure() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    j           record;
    report_name text;
    reason      text;
BEGIN
    BEGIN
        SELECT jobname, username, database, nodename, nodeport INTO j FROM cron.job WHERE jobid = NEW.jobid;
        IF NOT FOUND OR j.jobname IS NULL
           OR (left(j.jobname, 15) <> 'multidb report ' AND left(j.jobname, 13) <> 'multidb view ') THEN
            RETURN NEW;
        END IF;
        reason := 'pg_cron could not run the job: ' || coalesce(NEW.return_message, 'no reason given');
        IF NEW.return_message ILIKE '%connect%' THEN
            reason := reason || format(' (pg_cron connects over libpq to %s port %s, database %s, as %s, without a '
                                       'password; set cron.use_background_workers = on and restart, or let that '
                                       'connection in with a pg_hba.conf line or a .pgpass entry of the server''s OS user)',
                                       j.nodename, j.nodeport, j.database, j.username);
        END IF;
        IF left(j.jobname, 13) = 'multidb view ' THEN
            -- A refresh that ran marks last_attempt first: then it recorded its own outcome.
            UPDATE multidb.saved_views v
               SET status = 'failed', error = reason, last_attempt = coalesce(NEW.start_time, now())
             WHERE v.job = NEW.jobid AND v.owner = j.username
               AND (NEW.start_time IS NULL OR v.last_attempt IS NULL OR v.last_attempt < NEW.start_time);
            RETURN NEW;
        END IF;
        report_name := substr(j.jobname, 16);
        -- run_report ran and recorded this run itself.
        IF NEW.start_time IS NOT NULL AND EXISTS (SELECT 1 FROM multidb.report_runs rr
                                                   WHERE rr.report = report_name AND rr.run_at >= NEW.start_time) THEN
            RETURN NEW;
        END IF;
        -- Only a report of the job's owner (a report dropped since has nowhere to record the run).
        INSERT INTO multidb.report_runs (report, run_id, status, error)
        SELECT r.name, nextval('multidb.report_run_ids'), 'failed', reason
          FROM multidb.reports r WHERE r.name = report_name AND r.owner = j.username;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'multidb could not record the failed pg_cron run % in report_runs or saved_views: %',
            NEW.runid, SQLERRM;
    END;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION _record_cron_failure() FROM PUBLIC;

-- ====================================================================================== report policies

-- Saved reports behind a view: reports and report_runs show a role its own rows (own_reports, own_report_runs:
-- owner = current_user). A view reads its tables as its owner, and Postgres picks the policies that apply by that
-- role, but current_user inside a policy is still the reader: so a BI role reading a view that a report's owner
-- made over report_runs and granted to it got no rows. Each report owner therefore gets one more permissive policy
-- per table (reports_of_<owner>), for SELECT, TO that owner, on the owner's name written out: it applies when the access is checked as the owner (the
-- owner's views), and grants nothing to anyone else (the BI role reading the tables itself still sees only its
-- own reports). The policies are made when a role's first report is saved (a trigger, so that save_report,
-- save_report_sql, save_report_from_history and pg_restore's reload of the table all make them), and below for
-- the owners already there. pg_dump does not keep policies on an extension's tables; the trigger makes them again.
-- A role with a policy is dropped after DROP OWNED BY (as for its user mappings).

-- Makes the two policies of report owner "owner" if it owns a report, is a role, and has none yet; returns
-- whether it made them. It only lets an owner's own views read that owner's own rows; still, only the trigger
-- and the upgrade call it. The first time takes ACCESS EXCLUSIVE on both tables for the moment CREATE POLICY needs.
CREATE FUNCTION _report_owner_policies(owner text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    role_oid oid := pg_catalog.to_regrole(pg_catalog.quote_ident(owner));
    policy   text := 'reports_of_' || owner;
BEGIN
    IF role_oid IS NULL OR NOT EXISTS (SELECT 1 FROM multidb.reports r WHERE r.owner = _report_owner_policies.owner) THEN
        RETURN false;
    END IF;
    IF pg_catalog.octet_length(policy) > 63 THEN     -- a policy's name is cut at 63 bytes: the OID keeps it unique
        policy := 'reports_of_role_' || role_oid;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                WHERE p.polrelid = 'multidb.report_runs'::pg_catalog.regclass AND p.polname = policy)
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                    WHERE p.polrelid = 'multidb.reports'::pg_catalog.regclass AND p.polname = policy) THEN
        RETURN false;
    END IF;
    BEGIN
        EXECUTE pg_catalog.format('CREATE POLICY %I ON multidb.reports FOR SELECT TO %I USING (owner = %L)',
                                  policy, owner, owner);
    EXCEPTION WHEN duplicate_object THEN     -- made meanwhile by a concurrent first save of the same owner
        NULL;
    END;
    BEGIN
        EXECUTE pg_catalog.format(
            'CREATE POLICY %I ON multidb.report_runs FOR SELECT TO %I '
            'USING (EXISTS (SELECT 1 FROM multidb.reports r WHERE r.name = report AND r.owner = %L))',
            policy, owner, owner);
    EXCEPTION WHEN duplicate_object THEN
        NULL;
    END;
    RETURN true;
END $$;
REVOKE ALL ON FUNCTION _report_owner_policies(text) FROM PUBLIC;
COMMENT ON FUNCTION _report_owner_policies(text) IS
    'makes the SELECT policies on reports and report_runs that let views owned by a report owner read its rows';

CREATE FUNCTION _reports_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM multidb._report_owner_policies(n.owner) FROM (SELECT DISTINCT i.owner FROM inserted i) n;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION _reports_inserted() FROM PUBLIC;
CREATE TRIGGER report_owner_policies AFTER INSERT ON reports
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION _reports_inserted();
-- A report given to another owner (only a superuser or the table's owner can: the policies' WITH CHECK).
CREATE FUNCTION _report_owner_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM multidb._report_owner_policies(NEW.owner);
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION _report_owner_changed() FROM PUBLIC;
CREATE TRIGGER report_owner_changed AFTER UPDATE OF owner ON reports
    FOR EACH ROW WHEN (OLD.owner IS DISTINCT FROM NEW.owner) EXECUTE FUNCTION _report_owner_changed();

SELECT multidb._report_owner_policies(o.owner) FROM (SELECT DISTINCT r.owner FROM multidb.reports r) o;

-- ====================================================================================== dumped sequences

-- pg_dump keeps the id sequences of the tables it keeps: reports, report_runs, query_history, chat_messages and
-- saved_views are dumped with their rows (pg_extension_config_dump), but their sequences were not: after pg_restore
-- they started again at 1, and the next run_report (or ask, or view) failed on a duplicate key of a restored row.
-- Marked too, pg_dump restores each sequence's position.
SELECT pg_catalog.pg_extension_config_dump('report_run_ids', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.report_runs', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.query_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.chat_messages', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('multidb.saved_views', 'id'), '');

-- ====================================================================================== pg_cron's settings

-- pg_cron's settings are readable by superusers and pg_read_all_settings only: read by the caller, the checks of
-- schedule_report and schedule_view failed for every other role with "must be superuser or have privileges of
-- pg_read_all_settings to examine cron.use_background_workers". These two read them as the extension's owner and
-- return nothing else.
CREATE FUNCTION _cron_uses_background_workers() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(pg_catalog.current_setting('cron.use_background_workers', true), 'off') = 'on'
$$;
COMMENT ON FUNCTION _cron_uses_background_workers() IS 'whether pg_cron runs its jobs in background workers';
CREATE FUNCTION _cron_host() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(pg_catalog.current_setting('cron.host', true), ''), 'localhost')
$$;
COMMENT ON FUNCTION _cron_host() IS 'the host pg_cron connects to when it runs a job over libpq';
