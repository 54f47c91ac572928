// The bound on remote connections to one remote cluster (multidb.max_connections_per_host): a count of open
// connections per cluster, named by the address and port libpq connects to (core/cluster_address.hpp) — many
// foreign servers may name databases of one cluster, however they spell its address, and it is the cluster whose
// max_connections they share.
//
// Contract:
//   - A slot is one open remote connection: in use by a call, or kept idle in connection_pool.cpp. The count
//     is kept whatever the bound; the bound (0: none) is checked only when a slot is taken.
//   - With multidb in shared_preload_libraries the count lives in shared memory and covers every backend and
//     worker of this server (as Citus's citus.max_shared_pool_size); otherwise it is this backend's own, so
//     the bound holds per session. cluster_slots_shared() says which.
//   - cluster_slot_take never waits. A target refused is counted as waiting (cluster_wait_begin) until it gets
//     a slot or its call ends (cluster_wait_end), and its caller tries again; while any target waits for a
//     cluster, cluster_slot_wanted() is true, a connection to it that ends its call is closed rather than kept
//     idle, and backends holding idle ones are woken to close them (kept connections do not starve calls
//     that wait, even in sessions that run nothing).
//   - Every slot taken and every wait begun is given back once, or, for what a process still holds, at its
//     exit. Giving back more than this process holds does nothing. Only the first take or wait of a process
//     can raise an ERROR (out of memory); giving back never does, so it may run in error clean-up.
//   - A slot may also be given back from a signal handler of the process that holds it (the watch of idle
//     connections, connection_pool.hpp), by the cluster's index: cluster_slot_wanted_at and
//     cluster_slot_give_back_at take no lock and call nothing but atomics, wherever the process was interrupted.
//   - The table holds 256 clusters; a cluster beyond them is not counted, and not bounded.
#pragma once

namespace multidb {

// From _PG_init while shared_preload_libraries is processed: ask for the shared table.
void request_cluster_slots();

bool cluster_slots_shared();

// True if a slot for cluster was free (or the cluster is beyond the table), and is now this process's.
bool cluster_slot_take(const char* cluster);

void cluster_slot_give_back(const char* cluster);

void cluster_wait_begin(const char* cluster);
void cluster_wait_end(const char* cluster);

// A target, of this call or another, waits for a slot of cluster.
bool cluster_slot_wanted(const char* cluster);

// Some target waits for some cluster: a cheap test before looking at each kept connection.
bool cluster_anyone_waiting();

// The cluster's place in the table while this process holds a slot of it (the place is kept as long as any slot is
// held), for the two functions below; -1 when it is beyond the table (nothing is counted for it).
int cluster_slot_index(const char* cluster);

// Async-signal-safe: a target waits for a slot of the cluster at index.
bool cluster_slot_wanted_at(int index);

// Async-signal-safe: one slot of the cluster at index, held by this process, given back (nothing if it holds none).
void cluster_slot_give_back_at(int index);

// This backend now keeps count idle connections (shared table only: so that waiters can wake it).
void cluster_note_idle(int count);

// Wakes the other backends that keep idle connections (at most every 100 ms from one process), so that those
// idle in a session that runs nothing close the connections a waiting target needs (connection_pool.hpp).
void cluster_wake_idle_holders();

struct ClusterLoad {
  const char* cluster;
  int open;     // slots held: connections open to it, in use or idle
  int waiting;  // targets waiting for a slot
};

// The clusters with an open connection or a waiting target, palloc'd; *count receives their number.
ClusterLoad* cluster_slot_list(int* count);

}  // namespace multidb
