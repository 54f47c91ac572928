-- multidb 0.2: asking in plain language — LLM servers, chat sessions, history and caches.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.2'" to load this file. \quit

-- LLM servers ------------------------------------------------------------------------------------------
-- An LLM is a server of this wrapper: configured, granted (USAGE) and secured like a database connection;
-- its key lives only in a user mapping (or the server's environment).
CREATE FUNCTION multidb_llm_validator(text[], oid) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_llm_validator' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER multidb_llm VALIDATOR multidb_llm_validator;
COMMENT ON FOREIGN DATA WRAPPER multidb_llm IS 'LLM endpoints multidb plans with (provider openai or anthropic)';

-- Sessions, messages, history ----------------------------------------------------------------------------
CREATE TABLE chat_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL,
    owner          text NOT NULL DEFAULT current_user,
    connections    text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_active_at timestamptz
);
COMMENT ON TABLE chat_sessions IS 'a conversation with multidb over a set of connections';

CREATE TABLE query_history (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id        uuid REFERENCES chat_sessions ON DELETE SET NULL,
    asked_by          text NOT NULL DEFAULT current_user,
    question          text NOT NULL,
    plan              jsonb,            -- {"queries": [{"database", "sql"}], "explanation"}; every attempt in attempts
    attempts          jsonb,            -- each LLM round: its plan and what failed
    status            text NOT NULL CHECK (status IN ('ok', 'partial', 'refused', 'error')),
    error             text,
    databases_used    text[],
    row_counts        jsonb,            -- {"database": rows}
    timings_ms        jsonb,            -- {"database": ms}
    llm_ms            double precision,
    exec_ms           double precision,
    total_ms          double precision,
    cached            text CHECK (cached IN ('plan', 'result')),   -- NULL: no cache served this ask
    model             text,
    prompt_tokens     integer,
    completion_tokens integer,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON query_history (session_id, created_at);
COMMENT ON TABLE query_history IS 'every ask: question, plan, outcome, timings — kept even when the ask failed';

CREATE TABLE chat_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id     uuid NOT NULL REFERENCES chat_sessions ON DELETE CASCADE,
    role           text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content        text NOT NULL,
    query_id       bigint REFERENCES query_history ON DELETE SET NULL,
    databases_used text[],
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON chat_messages (session_id, id);

SELECT pg_catalog.pg_extension_config_dump('chat_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('query_history', '');
SELECT pg_catalog.pg_extension_config_dump('chat_messages', '');

-- A role sees and changes only its own sessions, messages and history.
ALTER TABLE chat_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE query_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_sessions ON chat_sessions USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY own_history ON query_history USING (asked_by = current_user) WITH CHECK (asked_by = current_user);
CREATE POLICY own_messages ON chat_messages
    USING (EXISTS (SELECT 1 FROM chat_sessions s WHERE s.id = session_id AND s.owner = current_user))
    WITH CHECK (EXISTS (SELECT 1 FROM chat_sessions s WHERE s.id = session_id AND s.owner = current_user));
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_sessions, query_history, chat_messages TO PUBLIC;

-- Caches: written and read only by multidb's own code (as the extension's owner), never by roles directly.
CREATE TABLE schema_cache (
    connection  text PRIMARY KEY,
    fingerprint text NOT NULL,
    schema      jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE plan_cache (
    key         text PRIMARY KEY,     -- hash of the prompt (schemas, history, question) and the model
    connections text[] NOT NULL,
    plan        jsonb NOT NULL,
    model       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    hits        bigint NOT NULL DEFAULT 0
);
-- Opt-in (multidb.result_cache_ttl): an ask's rows, per role and plan, so that the same question over the same
-- connections is answered again without touching the remotes.
CREATE TABLE result_cache (
    key         text PRIMARY KEY,     -- md5 of the plan and the asking role
    rows        jsonb NOT NULL,       -- [[source_db, row_data], ...]
    row_counts  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON schema_cache, plan_cache, result_cache FROM PUBLIC;

-- Functions ----------------------------------------------------------------------------------------------
CREATE FUNCTION check_connections(connections text[]) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_check_connections' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION check_connections(text[]) IS
    'raise the error multidb would raise when using these connections (existence, USAGE, user mapping, password)';

CREATE FUNCTION create_session(name text, connections text[]) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    session_id uuid;
BEGIN
    IF name IS NULL OR connections IS NULL THEN
        RAISE EXCEPTION 'a session needs a name and a list of connections'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM multidb.check_connections(connections);
    INSERT INTO multidb.chat_sessions (name, connections) VALUES (name, connections) RETURNING id INTO session_id;
    RETURN session_id;
END $$;

-- One wording for a session that does not exist, or is another role's (row-level security hides it).
CREATE FUNCTION _no_such_session(session uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'chat session % does not exist', session USING ERRCODE = 'undefined_object',
        HINT = 'SELECT id, name FROM multidb.chat_sessions lists yours.';
END $$;

CREATE FUNCTION attach(session uuid, connection text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM multidb.check_connections(ARRAY[connection]);
    UPDATE multidb.chat_sessions
       SET connections = CASE WHEN connection = ANY (connections) THEN connections
                              ELSE connections || connection END,
           updated_at = now()
     WHERE id = session;
    IF NOT FOUND THEN
        PERFORM multidb._no_such_session(session);
    END IF;
END $$;

CREATE FUNCTION detach(session uuid, connection text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE multidb.chat_sessions SET connections = array_remove(connections, connection), updated_at = now()
     WHERE id = session;
    IF NOT FOUND THEN
        PERFORM multidb._no_such_session(session);
    END IF;
END $$;

CREATE FUNCTION drop_session(session uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM multidb.chat_sessions WHERE id = session;
    IF NOT FOUND THEN
        PERFORM multidb._no_such_session(session);
    END IF;
END $$;

-- Writes one ask's history row and messages. Called by multidb's history writer, a background worker that
-- runs as the asking role in a transaction of its own, so the record survives the ask's own failure.
CREATE FUNCTION _record_ask(record jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    history_id bigint;
    session    uuid := (record->>'session_id')::uuid;
    used       text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(record->'databases_used', '[]')));
BEGIN
    IF record IS NULL THEN
        -- The writer's warm-up while the ask still runs: compile this function, load the tables' metadata.
        PERFORM 1 FROM multidb.query_history WHERE false;
        PERFORM 1 FROM multidb.chat_messages WHERE false;
        PERFORM 1 FROM multidb.chat_sessions WHERE false;
        RETURN NULL;
    END IF;
    INSERT INTO multidb.query_history (session_id, question, plan, attempts, status, error, databases_used,
                                       row_counts, timings_ms, llm_ms, exec_ms, total_ms, cached, model,
                                       prompt_tokens, completion_tokens)
    VALUES (session, record->>'question', record->'plan', record->'attempts', record->>'status', record->>'error',
            used, record->'row_counts', record->'timings_ms', (record->>'llm_ms')::float8,
            (record->>'exec_ms')::float8, (record->>'total_ms')::float8, record->>'cached', record->>'model',
            (record->>'prompt_tokens')::int, (record->>'completion_tokens')::int)
    RETURNING id INTO history_id;
    IF session IS NOT NULL THEN
        INSERT INTO multidb.chat_messages (session_id, role, content, query_id, databases_used)
        VALUES (session, 'user', record->>'question', history_id, NULL),
               (session, 'assistant', record->>'answer', history_id, used);
        UPDATE multidb.chat_sessions SET last_active_at = now(), updated_at = now() WHERE id = session;
    END IF;
    RETURN history_id;
END $$;
REVOKE ALL ON FUNCTION _record_ask(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION _record_ask(jsonb) TO PUBLIC;   -- runs as the caller: RLS still decides

CREATE FUNCTION ask(question text, session uuid DEFAULT NULL, connections text[] DEFAULT NULL)
    RETURNS TABLE (source_db text, row_data jsonb)
    AS 'MODULE_PATHNAME', 'multidb_ask' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ask(text, uuid, text[]) IS
    'answer a plain-language question from the session''s (or the given) connections: plan with the LLM, guard, run';

CREATE FUNCTION plan(question text, session uuid DEFAULT NULL, connections text[] DEFAULT NULL)
    RETURNS TABLE (source_db text, sql text)
    AS 'MODULE_PATHNAME', 'multidb_plan' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION plan(text, uuid, text[]) IS 'the dry run of ask: plan and guard, run nothing';

CREATE FUNCTION refresh_schema(connection text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_refresh_schema' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION refresh_schema(text) IS 're-read one connection''s schema now, or every usable one''s';

CREATE FUNCTION clear_cache() RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_clear_cache' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION clear_cache() IS 'forget cached plans (and results); schemas are re-read by refresh_schema';
