-- multidb 0.4 -> 0.5: real LLM services. Every HTTP request of an ask's LLM calls (retries, a model asked again
-- without a parameter it refuses) is kept in query_history.llm_attempts.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.5'" to load this file. \quit

ALTER TABLE query_history ADD COLUMN llm_attempts jsonb;
COMMENT ON COLUMN query_history.llm_attempts IS
    'every request to the LLM, in order: {"status": HTTP status or 0, "error": text or absent, "waited_ms": pause before it}';

CREATE OR REPLACE FUNCTION _record_ask(record jsonb) RETURNS bigint
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
                                       prompt_tokens, completion_tokens, llm_attempts)
    VALUES (session, record->>'question', record->'plan', record->'attempts', record->>'status', record->>'error',
            used, record->'row_counts', record->'timings_ms', (record->>'llm_ms')::float8,
            (record->>'exec_ms')::float8, (record->>'total_ms')::float8, record->>'cached', record->>'model',
            (record->>'prompt_tokens')::int, (record->>'completion_tokens')::int, record->'llm_attempts')
    RETURNING id INTO history_id;
    IF session IS NOT NULL THEN
        INSERT INTO multidb.chat_messages (session_id, role, content, query_id, databases_used)
        VALUES (session, 'user', record->>'question', history_id, NULL),
               (session, 'assistant', record->>'answer', history_id, used);
        UPDATE multidb.chat_sessions SET last_active_at = now(), updated_at = now() WHERE id = session;
    END IF;
    RETURN history_id;
END $$;

-- Kept connections (multidb.keep_connections): this backend's, as postgres_fdw_get_connections() shows its own.
CREATE FUNCTION open_connections()
RETURNS TABLE (connection text, local_user text, idle_since timestamptz, calls bigint)
AS 'MODULE_PATHNAME', 'multidb_open_connections' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION open_connections() IS 'the idle remote connections this backend keeps for reuse';

-- Closes this backend's kept connections to one connection's server, or all of them; returns how many.
CREATE FUNCTION disconnect(connection text DEFAULT NULL) RETURNS integer
AS 'MODULE_PATHNAME', 'multidb_disconnect' LANGUAGE C VOLATILE;
