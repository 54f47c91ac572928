-- multidb 0.8 -> 0.9
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.9'" to load this file. \quit

-- Describing answers without running them (issue 20)
-- Each database prepares and describes the statement (never runs it) and names its columns' types; the types are
-- this coordinator's (text, with a NOTICE, for a type this database lacks).

CREATE FUNCTION describe(sql text, connections text[])
    RETURNS TABLE (source_db text, column_name text, column_type text)
    AS 'MODULE_PATHNAME', 'multidb_describe' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION describe(text, text[]) IS
    'the columns each database would return for a read-only statement, described without running it: in connection '
    'order, columns in order, typed with this database''s type names (text where it lacks the remote''s type)';

CREATE FUNCTION _describe_answer(plan jsonb, connections text[] DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'multidb__describe_answer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION _describe_answer(jsonb, text[]) IS
    'internal: the columns an answer would have, described without running it: a plan {"sql": ...} on the '
    'connections, or an ask''s plan (its steps on their databases, its combine step prepared here); '
    '{"columns", "databases", "combine"}';

CREATE FUNCTION _description_drift(stored jsonb, now jsonb)
    RETURNS TABLE (change text, column_name text, database text, expected text, found text)
    AS 'MODULE_PATHNAME', 'multidb__description_drift' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION _description_drift(jsonb, jsonb) IS
    'internal: how a description made now (as _describe_answer returns it) differs from a stored one: columns '
    'removed, added or retyped, per database; no rows when nothing drifted';
