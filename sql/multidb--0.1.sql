-- multidb 0.1: connections as foreign servers, the read-only guard, and the parallel fan-out engine.
\echo Use "CREATE EXTENSION multidb" to load this file. \quit

-- Anyone may call the functions; what they reach is governed by USAGE on servers and user mappings.
GRANT USAGE ON SCHEMA multidb TO PUBLIC;

-- Connections -------------------------------------------------------------------------------------------

CREATE FUNCTION multidb_fdw_validator(text[], oid) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_fdw_validator' LANGUAGE C STRICT;

-- A connection is a server of this wrapper (or of postgres_fdw); credentials live in user mappings.
CREATE FOREIGN DATA WRAPPER multidb VALIDATOR multidb_fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER multidb IS 'remote PostgreSQL databases that multidb queries';

CREATE FUNCTION add_connection(name text, conninfo text, description text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_add_connection' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION add_connection(text, text, text) IS
    'create a multidb server and the caller''s user mapping from one libpq conninfo string';

-- Never a password: credentials are only in user mappings, which this view does not read.
CREATE VIEW connections AS
SELECT s.srvname::text AS name,
       (SELECT substr(o, 6) FROM unnest(s.srvoptions) o WHERE o LIKE 'host=%')::text AS host,
       (SELECT substr(o, 6) FROM unnest(s.srvoptions) o WHERE o LIKE 'port=%')::text AS port,
       (SELECT substr(o, 8) FROM unnest(s.srvoptions) o WHERE o LIKE 'dbname=%')::text AS dbname,
       obj_description(s.oid, 'pg_foreign_server') AS description,
       pg_get_userbyid(s.srvowner)::text AS owner,
       w.fdwname::text AS wrapper,
       has_server_privilege(s.oid, 'USAGE') AS usable
  FROM pg_foreign_server s
  JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
 WHERE w.fdwname IN ('multidb', 'postgres_fdw');
GRANT SELECT ON connections TO PUBLIC;

-- The read-only guard ----------------------------------------------------------------------------------

CREATE FUNCTION check_sql(sql text) RETURNS void
    AS 'MODULE_PATHNAME', 'multidb_check_sql' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION check_sql(text) IS
    'raise the error multidb would raise before sending this statement anywhere; return nothing when it is allowed';

CREATE FUNCTION denied_functions() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'multidb_denied_functions' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION denied_functions() IS
    'the function-name patterns the guard refuses: the built-in list plus multidb.extra_denied_functions';

-- Fan-out ----------------------------------------------------------------------------------------------

CREATE FUNCTION fanout(sql text, connections text[])
    RETURNS TABLE (source_db text, row_data jsonb)
    AS 'MODULE_PATHNAME', 'multidb_fanout' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fanout(text, text[]) IS
    'run one read-only statement on every named connection in parallel; rows tagged with their connection';

CREATE FUNCTION fanout_rows(sql text, connections text[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'multidb_fanout_rows' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fanout_rows(text, text[]) IS
    'like fanout, but typed: call with a column definition list whose first column is source_db text';
