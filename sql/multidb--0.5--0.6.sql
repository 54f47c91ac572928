-- multidb 0.5 -> 0.6: the count of remote connections per remote cluster (multidb.max_connections_per_host);
-- the kept connections show whom they are on the remote.
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

-- The kept connections with the remote role and the remote backend's pid, to find them in the remote's
-- pg_stat_activity. (A new result type: the function is made again; a view over it must be, too.)
DROP FUNCTION open_connections();
CREATE FUNCTION open_connections()
RETURNS TABLE (connection text, local_user text, remote_user text, remote_pid integer, idle_since timestamptz,
               calls bigint)
AS 'MODULE_PATHNAME', 'multidb_open_connections' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION open_connections() IS 'the idle remote connections this backend keeps for reuse';
