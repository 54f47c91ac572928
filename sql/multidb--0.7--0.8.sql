-- multidb 0.7 -> 0.8: what an HTTP gateway needs of the extension.
-- multidb.default_connections (a setting; ALTER ROLE/DATABASE ... SET): the connections ask, plan and save_report
-- use when given neither a session nor connections; empty, the one connection the caller can use, if there is
-- exactly one. multidb.progress (a setting): NOTICEs telling how a call goes while it runs. An ask stopped on the
-- coordinator is recorded as cancelled.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.8'" to load this file. \quit

CREATE FUNCTION default_connections() RETURNS text[]
    AS 'MODULE_PATHNAME', 'multidb_default_connections' LANGUAGE C STABLE;
COMMENT ON FUNCTION default_connections() IS
    'the connections an ask given neither a session nor connections uses: multidb.default_connections, or the one '
    'connection the caller can use; an ERROR saying what to do when there is none';

-- With neither a session nor connections, the report keeps the connections the default resolved to.
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
    SELECT jsonb_strip_nulls(jsonb_build_object(
               'queries', jsonb_agg(jsonb_build_object('database', p.source_db, 'sql', p.sql)) FILTER (WHERE NOT p.is_combine),
               'combine', max(p.sql) FILTER (WHERE p.is_combine)))
      INTO frozen
      FROM (SELECT q.source_db, q.sql, q.source_db = 'combined' AND q.n = count(*) OVER () AS is_combine
              FROM multidb.plan(question, session, targets) WITH ORDINALITY q(source_db, sql, n)) p;
    IF targets IS NULL THEN
        SELECT s.connections INTO targets FROM multidb.chat_sessions s WHERE s.id = session;
    END IF;
    INSERT INTO multidb.reports (name, question, connections, plan) VALUES (name, question, targets, frozen);
END $$;

-- An ask stopped on the coordinator (pg_cancel_backend, Ctrl-C, statement_timeout, its backend terminated or its
-- client gone) is recorded as cancelled, not error.
ALTER TABLE query_history DROP CONSTRAINT query_history_status_check;
ALTER TABLE query_history ADD CONSTRAINT query_history_status_check
    CHECK (status IN ('ok', 'partial', 'refused', 'error', 'cancelled'));

-- A report from an ask already made (the gateway's "save as report" of a chat message): its plan frozen as it
-- ran, so the report needs no new LLM call. Only the caller's own asks (row-level security); the statements
-- are guarded and the connections checked as save_report_sql checks them.
CREATE FUNCTION save_report_from_history(name text, history_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    asked multidb.query_history;
    frozen jsonb;
    targets text[];
BEGIN
    SELECT * INTO asked FROM multidb.query_history h WHERE h.id = history_id AND h.asked_by = current_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ask % does not exist', history_id USING ERRCODE = 'undefined_object',
              HINT = 'multidb.query_history lists your asks';
    END IF;
    IF jsonb_typeof(asked.plan -> 'queries') IS DISTINCT FROM 'array' OR jsonb_array_length(asked.plan -> 'queries') = 0 THEN
        RAISE EXCEPTION 'ask % has no plan to save', history_id USING ERRCODE = 'invalid_parameter_value',
              HINT = 'only an ask that was planned (status ok or partial, mostly) can become a report';
    END IF;
    PERFORM multidb.check_sql(q ->> 'sql') FROM jsonb_array_elements(asked.plan -> 'queries') q;
    SELECT array_agg(d.database ORDER BY d.first)
      INTO targets
      FROM (SELECT q ->> 'database' AS database, min(n) AS first
              FROM jsonb_array_elements(asked.plan -> 'queries') WITH ORDINALITY x(q, n) GROUP BY 1) d;
    PERFORM multidb.check_connections(targets);
    frozen := jsonb_strip_nulls(jsonb_build_object(
        'queries', (SELECT jsonb_agg(jsonb_build_object('database', q ->> 'database', 'sql', q ->> 'sql') ORDER BY n)
                      FROM jsonb_array_elements(asked.plan -> 'queries') WITH ORDINALITY x(q, n)),
        'combine', asked.plan ->> 'combine'));
    INSERT INTO multidb.reports (name, question, connections, plan) VALUES (name, asked.question, targets, frozen);
END $$;
COMMENT ON FUNCTION save_report_from_history(text, bigint) IS
    'a report from one of the caller''s asks: its plan frozen as it ran (no LLM call)';
