// The warm connections of this backend: a small array in TopMemoryContext, invalidated by any change to a
// foreign server or user mapping (the contract is in connection_pool.hpp).
#include "dispatch/connection_pool.hpp"

#include "dispatch/cluster_slots.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

// Beyond this many idle connections the oldest is closed: a backend is no pooler for hundreds of databases.
constexpr int kMaxPooled = 64;

struct Entry {
  Oid server;
  Oid user;
  char* name;
  char* cluster;  // its slot in cluster_slots.cpp, given back when it closes
  PGconn* conn;
  TimestampTz idle_since;
  long calls;
};

Entry entries[kMaxPooled];
int entry_count = 0;
bool invalidated = false;  // a server or user mapping changed: close everything at the next look
bool callbacks_registered = false;

void forget_entry(int i) {
  pfree(entries[i].name);
  pfree(entries[i].cluster);
  entries[i] = entries[--entry_count];
  cluster_note_idle(entry_count);
}

void close_entry(int i) {
  close_kept_connection(entries[i].conn);
  cluster_slot_give_back(entries[i].cluster);
  forget_entry(i);
}

// Catalog invalidations can arrive at any time, even while a connection is being set up: only note them, and
// close at the next look (postgres_fdw does the same).
void server_or_mapping_changed(Datum, int, uint32) { invalidated = true; }

void close_all_at_exit(int, Datum) {
  while (entry_count > 0) close_entry(entry_count - 1);
}

// At the end of every transaction of this backend — including the one an idle backend runs when a waiter wakes
// it (cluster_slots.hpp) — the idle connections of clusters that a target waits for are closed.
void close_wanted_at_transaction_end(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT) return;
  if (entry_count == 0 || !cluster_anyone_waiting()) return;
  for (int i = entry_count - 1; i >= 0; i--)
    if (cluster_slot_wanted(entries[i].cluster)) close_entry(i);
}

void register_callbacks() {
  if (callbacks_registered) return;
  CacheRegisterSyscacheCallback(FOREIGNSERVEROID, server_or_mapping_changed, 0);
  CacheRegisterSyscacheCallback(USERMAPPINGOID, server_or_mapping_changed, 0);
  on_proc_exit(close_all_at_exit, 0);
  RegisterXactCallback(close_wanted_at_transaction_end, nullptr);
  callbacks_registered = true;
}

// Closes what may not be used: everything after an invalidation, else the connections idle too long.
void sweep() {
  register_callbacks();
  if (invalidated) {
    invalidated = false;
    while (entry_count > 0) close_entry(entry_count - 1);
    return;
  }
  TimestampTz now = GetCurrentTimestamp();
  for (int i = entry_count - 1; i >= 0; i--)
    if (TimestampDifferenceExceeds(entries[i].idle_since, now, idle_connection_timeout_ms)) close_entry(i);
}

// The entry idle longest (of cluster's, when given), or -1.
int longest_idle(const char* cluster) {
  int oldest = -1;
  for (int i = 0; i < entry_count; i++) {
    if (cluster != nullptr && strcmp(entries[i].cluster, cluster) != 0) continue;
    if (oldest < 0 || entries[i].idle_since < entries[oldest].idle_since) oldest = i;
  }
  return oldest;
}

}  // namespace

void close_kept_connection(PGconn* conn) {
  PQfinish(conn);
  ReleaseExternalFD();
}

void pool_catch_up_with_catalog() {
  register_callbacks();  // first: the changes read now must reach server_or_mapping_changed
  AcceptInvalidationMessages();
  sweep();
}

PGconn* pool_take(Oid server, Oid user, long* calls) {
  sweep();
  for (int i = 0; i < entry_count; i++) {
    if (entries[i].server != server || entries[i].user != user) continue;
    PGconn* conn = entries[i].conn;
    *calls = entries[i].calls;
    forget_entry(i);  // the caller now holds the descriptor's count and the cluster slot
    return conn;
  }
  *calls = 0;
  return nullptr;
}

void pool_put(Oid server, Oid user, const char* name, const char* cluster, PGconn* conn, long calls) {
  sweep();
  // A call waits for a slot of this cluster: the connection makes way rather than wait idle.
  if (cluster_slot_wanted(cluster)) {
    close_kept_connection(conn);
    cluster_slot_give_back(cluster);
    return;
  }
  if (entry_count == kMaxPooled) close_entry(longest_idle(nullptr));
  entries[entry_count++] = Entry{server, user, MemoryContextStrdup(TopMemoryContext, name),
                                 MemoryContextStrdup(TopMemoryContext, cluster), conn, GetCurrentTimestamp(), calls};
  cluster_note_idle(entry_count);
}

bool pool_close_idle_of(const char* cluster) {
  int oldest = longest_idle(cluster);
  if (oldest < 0) return false;
  close_entry(oldest);
  return true;
}

int pool_close(Oid server) {
  int closed = 0;
  for (int i = entry_count - 1; i >= 0; i--) {
    if (server != InvalidOid && entries[i].server != server) continue;
    close_entry(i);
    closed++;
  }
  return closed;
}

PooledConnection* pool_list(int* count) {
  sweep();
  PooledConnection* list = static_cast<PooledConnection*>(palloc0(sizeof(PooledConnection) * Max(entry_count, 1)));
  for (int i = 0; i < entry_count; i++)
    list[i] = PooledConnection{pstrdup(entries[i].name), entries[i].server, entries[i].user,
                               pstrdup(PQuser(entries[i].conn)), PQbackendPID(entries[i].conn), entries[i].idle_since,
                               entries[i].calls};
  *count = entry_count;
  return list;
}

}  // namespace multidb
