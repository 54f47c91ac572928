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

-- Browser sign-ins of multidb-web, kept here rather than in a gateway's memory, so that every gateway on this
-- coordinator knows every sign-in and a restarted one forgets none. A row is the SHA-256 of the cookie's random
-- token (the gateway hashes it: the token itself never reaches the server, its logs or this table), the role, and
-- when it was made and ends (the database's clock, so that gateways agree). Nobody is granted anything on the
-- table: only the three functions below (SECURITY DEFINER, EXECUTE granted to the gateway's authenticator role in
-- the set-up of docs/security.md) read and write it. Not marked for pg_dump: a restored database starts with
-- nobody signed in.
CREATE TABLE web_sign_ins (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    role       name NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sign_ins_expires_at ON web_sign_ins (expires_at);
CREATE INDEX web_sign_ins_role ON web_sign_ins (role, expires_at);
REVOKE ALL ON web_sign_ins FROM PUBLIC;
COMMENT ON TABLE web_sign_ins IS
    'multidb-web''s browser sign-ins: the SHA-256 of each cookie token, its role and expiry; read and written only '
    'through open_web_sign_in, web_sign_in_role and end_web_sign_in';

-- Whether the caller (the session's login role: the gateway's authenticator) may hold a sign-in of role: a
-- member of multidb_web, not a superuser, and a role the caller could SET ROLE to anyway. PL/pgSQL, as the two
-- functions that call it, so that their plans are kept: a lookup runs on every cookie request.
CREATE FUNCTION _may_sign_in_as(role name) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname = _may_sign_in_as.role AND NOT r.rolsuper
                      AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                                   WHERE g.rolname = 'multidb_web' AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER'))
                      AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER'));
END $$;
REVOKE ALL ON FUNCTION _may_sign_in_as(name) FROM PUBLIC;

-- A new sign-in of role for seconds, under the hash of its token; returns when it ends. First purges up to 100
-- expired rows (so the table stays bounded with no job of its own), and keeps at most 100 live sign-ins per role
-- (the ones ending soonest go first).
CREATE FUNCTION open_web_sign_in(token_hash bytea, role name, seconds integer) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ends timestamptz;
BEGIN
    IF octet_length(token_hash) IS DISTINCT FROM 32 THEN
        RAISE EXCEPTION 'a sign-in is kept under the SHA-256 of its token: 32 bytes, not %', octet_length(token_hash)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'multidb-web passes sha256 of the cookie''s token';
    END IF;
    IF seconds IS NULL OR seconds < 1 OR seconds > 30 * 86400 THEN
        RAISE EXCEPTION 'a sign-in lasts 1 second to 30 days, not % seconds', seconds
            USING ERRCODE = 'invalid_parameter_value', HINT = 'multidb-web''s --session-ttl sets it';
    END IF;
    IF NOT multidb._may_sign_in_as(role) THEN
        RAISE EXCEPTION 'role "%" may not open a sign-in of role "%"', session_user, role
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('only the gateway''s authenticator opens sign-ins, of roles that are members of '
                                'multidb_web, granted to it, and not superusers: GRANT multidb_web TO %I; GRANT %I TO '
                                '<authenticator>', role, role);
    END IF;
    DELETE FROM multidb.web_sign_ins s
     WHERE s.token_hash IN (SELECT e.token_hash FROM multidb.web_sign_ins e WHERE e.expires_at <= now() LIMIT 100);
    ends := now() + make_interval(secs => seconds);
    INSERT INTO multidb.web_sign_ins (token_hash, role, expires_at) VALUES (token_hash, role, ends);
    DELETE FROM multidb.web_sign_ins s
     WHERE s.token_hash IN (SELECT o.token_hash FROM multidb.web_sign_ins o WHERE o.role = open_web_sign_in.role
                             ORDER BY o.expires_at DESC OFFSET 100);
    RETURN ends;
END $$;
REVOKE ALL ON FUNCTION open_web_sign_in(bytea, name, integer) FROM PUBLIC;
COMMENT ON FUNCTION open_web_sign_in(bytea, name, integer) IS
    'multidb-web: a browser sign-in of role for seconds under the SHA-256 of its token; returns when it ends';

-- The role of a live sign-in, or NULL: unknown, expired (by the database's clock), or of a role that may no
-- longer sign in here (dropped, renamed, out of multidb_web, made superuser, no longer granted to the caller).
CREATE FUNCTION web_sign_in_role(token_hash bytea) RETURNS name
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    signed_in name;
BEGIN
    SELECT s.role INTO signed_in FROM multidb.web_sign_ins s
     WHERE s.token_hash = web_sign_in_role.token_hash AND s.expires_at > now();
    IF signed_in IS NULL OR NOT multidb._may_sign_in_as(signed_in) THEN
        RETURN NULL;
    END IF;
    RETURN signed_in;
END $$;
REVOKE ALL ON FUNCTION web_sign_in_role(bytea) FROM PUBLIC;
COMMENT ON FUNCTION web_sign_in_role(bytea) IS
    'multidb-web: the role of the live browser sign-in under this token hash, or NULL';

-- Sign-out: the row goes, so the sign-in ends on every gateway at once. True if there was one.
CREATE FUNCTION end_web_sign_in(token_hash bytea) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM multidb.web_sign_ins s WHERE s.token_hash = end_web_sign_in.token_hash;
    RETURN FOUND;
END $$;
REVOKE ALL ON FUNCTION end_web_sign_in(bytea) FROM PUBLIC;
COMMENT ON FUNCTION end_web_sign_in(bytea) IS 'multidb-web: ends the browser sign-in under this token hash';
