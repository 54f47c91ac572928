-- multidb 0.3 -> 0.4: the walls behind the guard (remote roles, the remotes' own volatile functions) and
-- cryptographic cache keys.
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.4'" to load this file. \quit

CREATE FUNCTION allowed_volatile_functions() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'multidb_allowed_volatile_functions' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION allowed_volatile_functions() IS
    'the volatile functions a remote statement may call (name or schema.name patterns): the built-in list plus multidb.extra_allowed_volatile_functions';

CREATE FUNCTION denied_relations() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'multidb_denied_relations' LANGUAGE C STRICT IMMUTABLE;
COMMENT ON FUNCTION denied_relations() IS
    'the relations the guard refuses by name in any schema: they expose the server''s files or secrets';

CREATE FUNCTION remote_check_sql(sql text) RETURNS text
    AS 'MODULE_PATHNAME', 'multidb_remote_check_sql' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION remote_check_sql(text) IS
    'what multidb asks a remote with its session set-up before it sends sql there: the role''s privileges and the volatile functions sql could reach';

-- Cache keys are SHA-256 now (they were FNV-1a and md5): entries under the old keys would never be found again.
DELETE FROM plan_cache;
DELETE FROM result_cache;
