// The warm connections of this backend: a small array in TopMemoryContext, invalidated by any change to a
// foreign server or user mapping, and watched while a transaction runs (the contract is in connection_pool.hpp).
//
// The watch. A backend that runs a statement runs no code of multidb's once its fan-out is over, and it reads the
// catch-up interrupt other sessions send it (cluster_slots.hpp) only when it is idle outside a transaction, so its
// idle connections would hold their cluster's slots, and a waiting session, until the statement and the transaction
// end. So while this backend keeps idle connections inside a transaction, a timeout (Postgres's SIGALRM timeouts,
// every kWatchEveryMs) looks at them: each one whose cluster a target waits for, or that is idle past
// multidb.idle_connection_timeout, has its socket shut down (shutdown(2): the remote session ends at once and the
// descriptor stays ours, so its number cannot be reused under libpq) and its slot given back lock-free
// (cluster_slot_give_back_at), and is marked let_go; the main code later closes it with PQfinish without giving the
// slot back again, at its next look at the pool or at the transaction's end. The watch is armed when a connection
// is kept and when a statement starts (ExecutorStart, ProcessUtility) while connections are kept, and disarmed at
// every transaction's end, where the catch-up interrupt takes over for a backend idle between transactions.
//
// Why this is safe in a signal handler: the handler reads only this file's plain data and the slot table's atomics,
// calls shutdown(2) (async-signal-safe), gettimeofday (as Postgres's own SIGALRM handler does) and atomics, and
// nothing that allocates, locks, or enters libpq. It may interrupt the main code anywhere, so the main code changes
// the array only between begin_change() and end_change(), raising no error in between; the handler returns at
// once while a change is under way, and looks again at its next tick.
#include "fanout/connection_pool.hpp"

#include "fanout/cluster_slots.hpp"
#include "foundation/settings.hpp"

#include <csignal>
#include <sys/socket.h>

extern "C" {
#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

// Beyond this many idle connections the oldest is closed. A fleet of a thousand tenant databases is asked warm as
// postgres_fdw asks it (one connection per server kept); what really bounds the pool is the bound per cluster
// (multidb.max_connections_per_host) and this backend's descriptors: a call short of one closes the idle connection
// idle longest (fanout_executor.cpp). Each idle connection holds libpq's buffers, about 40 kB.
constexpr int kMaxPooled = 1024;
// How often the watch looks while a transaction runs: a waiting session is answered within about this long.
constexpr int kWatchEveryMs = 200;

struct Entry {
  Oid server;
  Oid user;
  char* name;
  char* cluster;      // its slot in cluster_slots.cpp, given back when it closes
  int cluster_index;  // the slot's place there, for the watch (-1: the cluster is not counted)
  pgsocket socket;    // PQsocket(conn), for the watch, which calls no libpq function
  PGconn* conn;
  TimestampTz idle_since;
  ConnectionHistory history;
  volatile sig_atomic_t let_go;  // the watch shut its socket down and gave its slot back: close it, give nothing back
};

// What the watch reads is changed only inside a change; volatile, as Postgres's own timeouts keep theirs.
Entry entries[kMaxPooled];
volatile int entry_count = 0;
bool invalidated = false;  // a server or user mapping changed: close everything at the next look
bool callbacks_registered = false;
volatile sig_atomic_t changing = false;  // the main code is changing entries: the watch stays out
TimeoutId watch_timeout = MAX_TIMEOUTS;  // not registered yet

ExecutorStart_hook_type previous_executor_start = nullptr;
ProcessUtility_hook_type previous_process_utility = nullptr;

// No ereport may come between the two: an error would leave the watch out for good (transaction end resets it).
void begin_change() {
  changing = true;
  pg_compiler_barrier();
}

void end_change() {
  pg_compiler_barrier();
  changing = false;
}

// The watch, in the SIGALRM handler (see the opening comment).
void watch_idle_connections() {
  if (changing || proc_exit_inprogress) return;
  TimestampTz now = GetCurrentTimestamp();
  for (int i = 0; i < entry_count; i++) {
    Entry* entry = &entries[i];
    if (entry->let_go) continue;
    bool wanted = entry->cluster_index >= 0 && cluster_slot_wanted_at(entry->cluster_index);
    if (!wanted && !TimestampDifferenceExceeds(entry->idle_since, now, idle_connection_timeout_ms)) continue;
    shutdown(entry->socket, SHUT_RDWR);
    if (entry->cluster_index >= 0) cluster_slot_give_back_at(entry->cluster_index);
    entry->let_go = true;
  }
}

// Inside a transaction, while connections are kept: the watch looks every kWatchEveryMs until the transaction ends.
void arm_watch() {
  if (entry_count == 0 || !IsTransactionState()) return;
  if (watch_timeout == MAX_TIMEOUTS) watch_timeout = RegisterTimeout(USER_TIMEOUT, watch_idle_connections);
  if (!get_timeout_active(watch_timeout))
    enable_timeout_every(watch_timeout, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kWatchEveryMs),
                         kWatchEveryMs);
}

void disarm_watch() {
  if (watch_timeout != MAX_TIMEOUTS && get_timeout_active(watch_timeout)) disable_timeout(watch_timeout, false);
}

// A statement of a transaction that began after the last call, with connections still kept from it.
void arm_watch_at_executor_start(QueryDesc* query, int eflags) {
  arm_watch();
  if (previous_executor_start != nullptr) previous_executor_start(query, eflags);
  else standard_ExecutorStart(query, eflags);
}

void arm_watch_at_process_utility(PlannedStmt* statement, const char* text, bool read_only_tree,
                                  ProcessUtilityContext context, ParamListInfo params, QueryEnvironment* environment,
                                  DestReceiver* destination, QueryCompletion* completion) {
  arm_watch();
  if (previous_process_utility != nullptr)
    previous_process_utility(statement, text, read_only_tree, context, params, environment, destination, completion);
  else
    standard_ProcessUtility(statement, text, read_only_tree, context, params, environment, destination, completion);
}

// Inside a change.
void forget_entry(int i) {
  pfree(entries[i].name);
  pfree(entries[i].cluster);
  entries[i] = entries[--entry_count];
  cluster_note_idle(entry_count);
}

// Inside a change.
void close_entry(int i) {
  close_kept_connection(entries[i].conn);
  if (!entries[i].let_go) cluster_slot_give_back(entries[i].cluster);
  forget_entry(i);
}

// Catalog invalidations can arrive at any time, even while a connection is being set up: only note them, and
// close at the next look (postgres_fdw does the same).
void server_or_mapping_changed(Datum, int, uint32) { invalidated = true; }

void close_all_at_exit(int, Datum) {
  begin_change();  // and for good: the process ends
  while (entry_count > 0) close_entry(entry_count - 1);
}

// At the end of every transaction of this backend — including the one an idle backend runs when a waiter wakes
// it (cluster_slots.hpp) — the watch is disarmed, what it let go is closed, and so are the idle connections of
// clusters that a target waits for.
void at_transaction_end(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE) return;
  disarm_watch();
  changing = false;  // nothing raises inside a change; should anything ever, the watch is not left out for good
  if (entry_count == 0) return;
  bool anyone_waiting = cluster_anyone_waiting();
  begin_change();
  for (int i = entry_count - 1; i >= 0; i--)
    if (entries[i].let_go || (anyone_waiting && cluster_slot_wanted(entries[i].cluster))) close_entry(i);
  end_change();
}

// Outside any change: these can raise (out of memory, too many callbacks).
void register_callbacks() {
  if (callbacks_registered) return;
  CacheRegisterSyscacheCallback(FOREIGNSERVEROID, server_or_mapping_changed, 0);
  CacheRegisterSyscacheCallback(USERMAPPINGOID, server_or_mapping_changed, 0);
  on_proc_exit(close_all_at_exit, 0);
  RegisterXactCallback(at_transaction_end, nullptr);
  callbacks_registered = true;
}

// Inside a change: closes what may not be used — everything after an invalidation, else what the watch let go
// and the connections idle too long.
void sweep() {
  if (invalidated) {
    invalidated = false;
    while (entry_count > 0) close_entry(entry_count - 1);
    return;
  }
  TimestampTz now = GetCurrentTimestamp();
  for (int i = entry_count - 1; i >= 0; i--)
    if (entries[i].let_go || TimestampDifferenceExceeds(entries[i].idle_since, now, idle_connection_timeout_ms))
      close_entry(i);
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

void pool_install_hooks() {
  previous_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = arm_watch_at_executor_start;
  previous_process_utility = ProcessUtility_hook;
  ProcessUtility_hook = arm_watch_at_process_utility;
}

void close_kept_connection(PGconn* conn) {
  PQfinish(conn);
  ReleaseExternalFD();
}

void pool_catch_up_with_catalog() {
  register_callbacks();  // first: the changes read now must reach server_or_mapping_changed
  AcceptInvalidationMessages();
  begin_change();
  sweep();
  end_change();
}

PGconn* pool_take(Oid server, Oid user, ConnectionHistory* history) {
  register_callbacks();
  PGconn* conn = nullptr;
  *history = ConnectionHistory{};
  begin_change();
  sweep();
  for (int i = 0; i < entry_count; i++) {
    if (entries[i].server != server || entries[i].user != user) continue;
    conn = entries[i].conn;
    *history = entries[i].history;
    forget_entry(i);  // the caller now holds the descriptor's count and the cluster slot
    break;
  }
  end_change();
  return conn;
}

void pool_put(Oid server, Oid user, const char* name, const char* cluster, PGconn* conn, ConnectionHistory history) {
  register_callbacks();
  char* kept_name = MemoryContextStrdup(TopMemoryContext, name);
  char* kept_cluster = MemoryContextStrdup(TopMemoryContext, cluster);
  int cluster_index = cluster_slot_index(cluster);
  begin_change();
  sweep();
  // A call waits for a slot of this cluster: the connection makes way rather than wait idle.
  bool make_way = cluster_slot_wanted(cluster);
  if (make_way) {
    close_kept_connection(conn);
    cluster_slot_give_back(cluster);
  } else {
    if (entry_count == kMaxPooled) close_entry(longest_idle(nullptr));
    entries[entry_count] = Entry{server, user, kept_name, kept_cluster, cluster_index, PQsocket(conn), conn,
                                 GetCurrentTimestamp(), history, false};
    entry_count++;
    cluster_note_idle(entry_count);
  }
  end_change();
  if (make_way) {
    pfree(kept_name);
    pfree(kept_cluster);
    return;
  }
  arm_watch();
}

bool pool_close_idle_of(const char* cluster) {
  begin_change();
  int oldest = longest_idle(cluster);
  if (oldest >= 0) close_entry(oldest);
  end_change();
  return oldest >= 0;
}

int pool_close(Oid server) {
  int closed = 0;
  begin_change();
  for (int i = entry_count - 1; i >= 0; i--) {
    if (server != InvalidOid && entries[i].server != server) continue;
    close_entry(i);
    closed++;
  }
  end_change();
  return closed;
}

PooledConnection* pool_list(int* count) {
  register_callbacks();
  begin_change();
  sweep();
  end_change();
  // Read outside a change (palloc may raise): the watch only ever sets let_go, and a connection it lets go is
  // still listed until the next look closes it.
  PooledConnection* list = static_cast<PooledConnection*>(palloc0(sizeof(PooledConnection) * Max(entry_count, 1)));
  for (int i = 0; i < entry_count; i++)
    list[i] = PooledConnection{pstrdup(entries[i].name), entries[i].server, entries[i].user,
                               pstrdup(PQuser(entries[i].conn)), PQbackendPID(entries[i].conn), entries[i].idle_since,
                               entries[i].history.calls};
  *count = entry_count;
  return list;
}

}  // namespace multidb
