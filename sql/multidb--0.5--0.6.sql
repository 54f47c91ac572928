-- multidb 0.5 -> 0.6: the count of remote connections per remote cluster (multidb.max_connections_per_host).
\echo Use "ALTER EXTENSION multidb UPDATE TO '0.6'" to load this file. \quit

-- One row per remote cluster ("host:port") with a connection open or a target waiting: across the coordinator
-- when multidb is in shared_preload_libraries (shared = true), else this session's own.
CREATE FUNCTION connection_slots()
RETURNS TABLE (cluster text, open integer, waiting integer, max_connections_per_host integer, shared boolean)
AS 'MODULE_PATHNAME', 'multidb_connection_slots' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION connection_slots() IS 'remote connections open and targets waiting, per remote cluster';
-- Which clusters the coordinator's sessions reach is for monitoring roles, as other sessions' activity is.
REVOKE ALL ON FUNCTION connection_slots() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION connection_slots() TO pg_read_all_stats;
