// Warm remote connections kept by this backend between calls (multidb.keep_connections), as postgres_fdw keeps
// its own: one idle libpq connection per foreign server and local user — the remote identity is that user's
// mapping, so a connection is never reused across servers or mappings.
//
// Contract:
//   - Only a connection whose call ended cleanly comes back: its remote transaction rolled back, nothing in flight
//     (remote.hpp: remote_release). A failed, cancelled or timed-out call closes its connection instead.
//   - Any change to a foreign server or user mapping (ALTER/DROP, a new password, GRANT/REVOKE) closes every idle
//     connection before it could be used again (syscache invalidation). Every call first reads the catalog changes
//     other sessions committed (pool_catch_up_with_catalog), then checks USAGE and the user mapping
//     (connections.hpp) before a connection is taken, so a role that lost either uses none from its next call on,
//     even inside a transaction.
//   - An idle connection older than multidb.idle_connection_timeout is closed at this backend's next call, or,
//     inside a transaction, by the watch (below) within a fraction of a second; every one at its exit. Each kept
//     connection counts against max_files_per_process.
//   - A connection taken from the pool belongs to the call until it is returned or closed.
//   - Each idle connection holds its slot of multidb.max_connections_per_host; a call short of a slot first
//     closes this backend's own idle connections to that cluster, and no connection is kept while another
//     call waits for its cluster.
//   - The watch: while this backend keeps idle connections inside a transaction — a long statement after its
//     fan-out, a later statement of the same or a later transaction, a session idle in a transaction — a timeout
//     every 200 ms shuts down, from its signal handler, the idle connections a target of another session waits
//     for (or idle too long) and gives their slots back, so that a waiting session is answered within a second;
//     the main code closes them later. Between transactions an idle backend answers the catch-up interrupt
//     instead (cluster_slots.hpp). connection_pool.cpp's opening comment says how and why it is safe.
#pragma once

#include "fanout/remote.hpp"
#include "foundation/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "libpq-fe.h"
}

namespace multidb {

// From _PG_init: the statement-start hooks that arm the watch when a statement begins while connections are kept.
void pool_install_hooks();

// Reads the catalog changes other sessions committed — inside a transaction Postgres reads them only when it takes a
// lock it did not hold yet — and closes every idle connection if a server or user mapping changed. Called at the
// start of every call, before USAGE and user mappings are checked and before a kept connection is taken.
void pool_catch_up_with_catalog();

// An idle connection for the server and user, or nullptr; *history receives what it carries (the calls it served,
// its prepared checks). The caller takes over its file-descriptor count and its cluster slot (cluster_slots.hpp).
PGconn* pool_take(Oid server, Oid user, ConnectionHistory* history);

// Takes conn (idle, its transaction ended) with its descriptor count and its slot of cluster, and its history:
// kept for the next call of this server and user, or closed at once when a call waits for a slot of that cluster.
// name is the connection's name, for pool_list.
void pool_put(Oid server, Oid user, const char* name, const char* cluster, PGconn* conn, ConnectionHistory history);

// Closes a connection the pool handed out, or would have kept, and gives back its descriptor count (its
// cluster slot is the caller's to give back).
void close_kept_connection(PGconn* conn);

// Closes this backend's connection to cluster (nullptr: to any) idle longest, giving its slot back; false if there was
// none.
bool pool_close_idle_of(const char* cluster);

// Closes the idle connections of one server (InvalidOid: all); returns how many.
int pool_close(Oid server);

struct PooledConnection {
  const char* name;
  Oid server;
  Oid user;
  const char* remote_user;  // the role it logged in as on the remote
  int remote_pid;           // its backend on the remote, as the remote's pg_stat_activity shows it
  TimestampTz idle_since;
  long calls;  // calls served by this connection, this one included
};

// The idle connections, for multidb.open_connections(); *count receives their number.
PooledConnection* pool_list(int* count);

}  // namespace multidb
