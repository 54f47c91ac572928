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

-- Cache keys are SHA-256 now (they were FNV-1a and md5): entries under the old keys would never be found again.
DELETE FROM plan_cache;
DELETE FROM result_cache;
