// The warm connections of this backend: a small array in TopMemoryContext, invalidated by any change to a
// foreign server or user mapping (the contract is in connection_pool.hpp).
#include "dispatch/connection_pool.hpp"

#include "pg/settings.hpp"

extern "C" {
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
  PGconn* conn;
  TimestampTz idle_since;
  long calls;
};

Entry entries[kMaxPooled];
int entry_count = 0;
bool invalidated = false;  // a server or user mapping changed: close everything at the next look
bool callbacks_registered = false;

void close_entry(int i) {
  PQfinish(entries[i].conn);
  ReleaseExternalFD();
  pfree(entries[i].name);
  entries[i] = entries[--entry_count];
}

// Catalog invalidations can arrive at any time, even while a connection is being set up: only note them, and
// close at the next look (postgres_fdw does the same).
void server_or_mapping_changed(Datum, int, uint32) { invalidated = true; }

void close_all_at_exit(int, Datum) {
  while (entry_count > 0) close_entry(entry_count - 1);
}

// Closes what may not be used: everything after an invalidation, else the connections idle too long.
void sweep() {
  if (!callbacks_registered) {
    CacheRegisterSyscacheCallback(FOREIGNSERVEROID, server_or_mapping_changed, 0);
    CacheRegisterSyscacheCallback(USERMAPPINGOID, server_or_mapping_changed, 0);
    on_proc_exit(close_all_at_exit, 0);
    callbacks_registered = true;
  }
  if (invalidated) {
    invalidated = false;
    while (entry_count > 0) close_entry(entry_count - 1);
    return;
  }
  TimestampTz now = GetCurrentTimestamp();
  for (int i = entry_count - 1; i >= 0; i--)
    if (TimestampDifferenceExceeds(entries[i].idle_since, now, idle_connection_timeout_ms)) close_entry(i);
}

}  // namespace

PGconn* pool_take(Oid server, Oid user, long* calls) {
  sweep();
  for (int i = 0; i < entry_count; i++) {
    if (entries[i].server != server || entries[i].user != user) continue;
    PGconn* conn = entries[i].conn;
    *calls = entries[i].calls;
    pfree(entries[i].name);
    entries[i] = entries[--entry_count];  // the caller now holds the descriptor's count
    return conn;
  }
  *calls = 0;
  return nullptr;
}

void pool_put(Oid server, Oid user, const char* name, PGconn* conn, long calls) {
  sweep();
  if (entry_count == kMaxPooled) {  // the longest idle goes
    int oldest = 0;
    for (int i = 1; i < entry_count; i++)
      if (entries[i].idle_since < entries[oldest].idle_since) oldest = i;
    close_entry(oldest);
  }
  entries[entry_count++] = Entry{server, user, MemoryContextStrdup(TopMemoryContext, name), conn,
                                 GetCurrentTimestamp(), calls};
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
    list[i] = PooledConnection{pstrdup(entries[i].name), entries[i].server, entries[i].user, entries[i].idle_since,
                               entries[i].calls};
  *count = entry_count;
  return list;
}

}  // namespace multidb
