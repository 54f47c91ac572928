// The count of open remote connections per remote cluster: one table of clusters, in shared memory when multidb is
// preloaded, else in this backend (the contract is in cluster_slots.hpp).
//
// The spinlock guards the table's shape (which cluster has which entry) and every take and every check against the
// bound. The counts themselves are atomics, so that a slot can be given back without the lock — by the watch of
// idle connections (connection_pool.cpp), which runs in a signal handler and may interrupt this process anywhere,
// even while it holds the spinlock. Counts only ever rise under the lock, so a check against the bound sees at most
// one too many (a refusal the next look corrects), never too few. This process's share of each count (held,
// held_waiting) is atomic for the same reason; a share is lowered before the count and raised after it, so the
// count is never below the sum of the shares, and an entry whose count is 0 belongs to no one and may be reused.
#include "fanout/cluster_slots.hpp"

#include "foundation/postgres.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procsignal.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

// A handler cannot wait for a spinlock its own process may hold: the atomics must be the processor's.
#ifdef PG_HAVE_ATOMIC_U32_SIMULATION
#error "multidb's cluster slots need native 32-bit atomics: a signal handler gives slots back"
#endif

namespace multidb {

namespace {

constexpr int kMaxClusters = 256;
constexpr int kClusterNameSize = 256;  // longer "address:port" names are cut: two such clusters then share a count
constexpr int kWakeEveryMs = 100;

struct ClusterCount {
  char name[kClusterNameSize];
  pg_atomic_uint32 open;
  pg_atomic_uint32 waiting;  // targets refused a slot that have not started yet
};

// A backend that keeps idle connections, so that a waiter can wake it (indexed by BackendId).
struct IdleHolder {
  pid_t pid;
  int idle;
};

struct SlotTable {
  slock_t mutex;  // shared table only
  int used;
  pg_atomic_uint32 total_waiting;
  ClusterCount clusters[kMaxClusters];
  int holder_count;  // shared table: MaxBackends + 1
  IdleHolder holders[FLEXIBLE_ARRAY_MEMBER];
};

Size table_size(int holders) { return offsetof(SlotTable, holders) + sizeof(IdleHolder) * holders; }

SlotTable* shared_table = nullptr;  // set in the postmaster, inherited by every backend and worker
SlotTable* local_table = nullptr;
// Shared table: this process's slots and waiting targets per cluster, given back at its exit (static: zero).
pg_atomic_uint32 held[kMaxClusters];
pg_atomic_uint32 held_waiting[kMaxClusters];
bool exit_callback_registered = false;

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void request_table_memory() {
  if (previous_request_hook != nullptr) previous_request_hook();
  RequestAddinShmemSpace(table_size(MaxBackends + 1));
}

void attach_table() {
  if (previous_startup_hook != nullptr) previous_startup_hook();
  bool found;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  Size size = table_size(MaxBackends + 1);
  shared_table = static_cast<SlotTable*>(ShmemInitStruct("multidb cluster slots", size, &found));
  if (!found) {
    memset(shared_table, 0, size);
    SpinLockInit(&shared_table->mutex);
    pg_atomic_init_u32(&shared_table->total_waiting, 0);
    for (ClusterCount& cluster : shared_table->clusters) {
      pg_atomic_init_u32(&cluster.open, 0);
      pg_atomic_init_u32(&cluster.waiting, 0);
    }
    shared_table->holder_count = MaxBackends + 1;
  }
  LWLockRelease(AddinShmemInitLock);
}

// One less of a count, if it is above zero; true if it was. A handler of this process may lower it meanwhile.
bool lower_if_positive(pg_atomic_uint32* count) {
  uint32 value = pg_atomic_read_u32(count);
  while (value > 0)
    if (pg_atomic_compare_exchange_u32(count, &value, value - 1)) return true;
  return false;
}

void give_back_all_at_exit(int, Datum) {
  SpinLockAcquire(&shared_table->mutex);
  for (int i = 0; i < kMaxClusters; i++) {
    if (uint32 open = pg_atomic_exchange_u32(&held[i], 0)) pg_atomic_fetch_sub_u32(&shared_table->clusters[i].open, open);
    if (uint32 waiting = pg_atomic_exchange_u32(&held_waiting[i], 0)) {
      pg_atomic_fetch_sub_u32(&shared_table->clusters[i].waiting, waiting);
      pg_atomic_fetch_sub_u32(&shared_table->total_waiting, waiting);
    }
  }
  if (MyBackendId > 0 && MyBackendId < shared_table->holder_count) shared_table->holders[MyBackendId].idle = 0;
  SpinLockRelease(&shared_table->mutex);
}

// The table a slot is taken from, made (and the exit callback registered) on the first take.
SlotTable* table_for_take() {
  if (shared_table != nullptr) {
    if (!exit_callback_registered) {
      before_shmem_exit(give_back_all_at_exit, 0);
      exit_callback_registered = true;
    }
    return shared_table;
  }
  if (local_table == nullptr)
    local_table = static_cast<SlotTable*>(MemoryContextAllocZero(TopMemoryContext, table_size(0)));
  return local_table;
}

// The table to read or give back to: nullptr when nothing was ever taken here (and nothing raises).
SlotTable* existing_table() { return shared_table != nullptr ? shared_table : local_table; }

void lock(SlotTable* table) {
  if (table == shared_table) SpinLockAcquire(&table->mutex);
}

void unlock(SlotTable* table) {
  if (table == shared_table) SpinLockRelease(&table->mutex);
}

// The cluster's index, under the lock; with add, a new or unused entry is given to it. -1: none.
int find_cluster(SlotTable* table, const char* name, bool add) {
  int unused = -1;
  for (int i = 0; i < table->used; i++) {
    if (strcmp(table->clusters[i].name, name) == 0) return i;
    if (unused < 0 && pg_atomic_read_u32(&table->clusters[i].open) == 0 &&
        pg_atomic_read_u32(&table->clusters[i].waiting) == 0)
      unused = i;
  }
  if (!add) return -1;
  if (unused < 0) {
    if (table->used == kMaxClusters) return -1;
    unused = table->used++;
  }
  ClusterCount* entry = &table->clusters[unused];
  strlcpy(entry->name, name, kClusterNameSize);
  pg_atomic_write_u32(&entry->open, 0);
  pg_atomic_write_u32(&entry->waiting, 0);
  return unused;
}

enum class Count { kOpen, kWaiting };

// The cluster's count of that kind, and this process's share of it (shared table only).
pg_atomic_uint32* count_of(SlotTable* table, int i, Count which) {
  return which == Count::kOpen ? &table->clusters[i].open : &table->clusters[i].waiting;
}

pg_atomic_uint32* share_of(int i, Count which) { return which == Count::kOpen ? &held[i] : &held_waiting[i]; }

// One of that kind at entry i given back, if this process has one there. Lock-free: also for a signal handler.
void give_back_at(SlotTable* table, int i, Count which) {
  pg_atomic_uint32* count = count_of(table, i, which);
  if (table == shared_table) {
    if (!lower_if_positive(share_of(i, which))) return;
    pg_atomic_fetch_sub_u32(count, 1);
  } else if (!lower_if_positive(count)) {
    return;
  }
  if (which == Count::kWaiting) pg_atomic_fetch_sub_u32(&table->total_waiting, 1);
}

// One more of that kind for cluster, as this process's, unless the count is at bound (> 0). True if counted (a
// cluster beyond the table is not counted, and never refused).
bool count_one(const char* cluster, Count which, int bound) {
  char name[kClusterNameSize];
  strlcpy(name, cluster, sizeof(name));
  SlotTable* table = table_for_take();
  bool counted = true;
  lock(table);
  int i = find_cluster(table, name, true);
  if (i >= 0) {
    pg_atomic_uint32* count = count_of(table, i, which);
    if (bound > 0 && pg_atomic_read_u32(count) >= static_cast<uint32>(bound)) {
      counted = false;
    } else {
      pg_atomic_fetch_add_u32(count, 1);
      if (which == Count::kWaiting) pg_atomic_fetch_add_u32(&table->total_waiting, 1);
      if (table == shared_table) pg_atomic_fetch_add_u32(share_of(i, which), 1);
    }
  }
  unlock(table);
  return counted;
}

// One of that kind for cluster given back, if this process has one to give.
void uncount_one(const char* cluster, Count which) {
  char name[kClusterNameSize];
  strlcpy(name, cluster, sizeof(name));
  SlotTable* table = existing_table();
  if (table == nullptr) return;
  lock(table);
  int i = find_cluster(table, name, false);
  if (i >= 0) give_back_at(table, i, which);
  unlock(table);
}

}  // namespace

void request_cluster_slots() {
  previous_request_hook = shmem_request_hook;
  shmem_request_hook = request_table_memory;
  previous_startup_hook = shmem_startup_hook;
  shmem_startup_hook = attach_table;
}

bool cluster_slots_shared() { return shared_table != nullptr; }

bool cluster_slot_take(const char* cluster) { return count_one(cluster, Count::kOpen, max_connections_per_host); }

void cluster_slot_give_back(const char* cluster) { uncount_one(cluster, Count::kOpen); }

void cluster_wait_begin(const char* cluster) { count_one(cluster, Count::kWaiting, 0); }

void cluster_wait_end(const char* cluster) { uncount_one(cluster, Count::kWaiting); }

bool cluster_slot_wanted(const char* cluster) {
  char name[kClusterNameSize];
  strlcpy(name, cluster, sizeof(name));
  SlotTable* table = existing_table();
  if (table == nullptr) return false;
  lock(table);
  int i = find_cluster(table, name, false);
  bool wanted = i >= 0 && pg_atomic_read_u32(&table->clusters[i].waiting) > 0;
  unlock(table);
  return wanted;
}

bool cluster_anyone_waiting() {
  SlotTable* table = existing_table();
  return table != nullptr && pg_atomic_read_u32(&table->total_waiting) > 0;  // a hint: read without the lock
}

int cluster_slot_index(const char* cluster) {
  char name[kClusterNameSize];
  strlcpy(name, cluster, sizeof(name));
  SlotTable* table = existing_table();
  if (table == nullptr) return -1;
  lock(table);
  int i = find_cluster(table, name, false);
  unlock(table);
  return i;
}

bool cluster_slot_wanted_at(int index) {
  SlotTable* table = existing_table();
  return table != nullptr && index >= 0 && index < kMaxClusters &&
         pg_atomic_read_u32(&table->clusters[index].waiting) > 0;
}

void cluster_slot_give_back_at(int index) {
  SlotTable* table = existing_table();
  if (table != nullptr && index >= 0 && index < kMaxClusters) give_back_at(table, index, Count::kOpen);
}

void cluster_note_idle(int count) {
  // Past shared-memory exit this BackendId may already be another backend's.
  if (shared_table == nullptr || proc_exit_inprogress || MyBackendId <= 0 || MyBackendId >= shared_table->holder_count)
    return;
  SpinLockAcquire(&shared_table->mutex);
  shared_table->holders[MyBackendId] = IdleHolder{MyProcPid, count};
  SpinLockRelease(&shared_table->mutex);
}

void cluster_wake_idle_holders() {
  static TimestampTz last_wake = 0;
  struct WakeTarget {
    pid_t pid;
    BackendId id;
  };
  static WakeTarget* to_wake = nullptr;
  if (shared_table == nullptr) return;
  TimestampTz now = GetCurrentTimestamp();
  if (last_wake != 0 && !TimestampDifferenceExceeds(last_wake, now, kWakeEveryMs)) return;
  last_wake = now;
  if (to_wake == nullptr)
    to_wake = static_cast<WakeTarget*>(MemoryContextAlloc(TopMemoryContext, sizeof(WakeTarget) * shared_table->holder_count));
  int n = 0;
  SpinLockAcquire(&shared_table->mutex);
  for (int id = 1; id < shared_table->holder_count; id++) {
    const IdleHolder* holder = &shared_table->holders[id];
    if (holder->idle > 0 && holder->pid != MyProcPid) to_wake[n++] = WakeTarget{holder->pid, id};
  }
  SpinLockRelease(&shared_table->mutex);
  // The interrupt Postgres sends an idle backend to make it read catalog invalidations: the backend runs a
  // transaction at once, whose end lets connection_pool.cpp close what others wait for. A backend that
  // exited meanwhile is no longer registered under that pid, and the signal goes nowhere.
  for (int i = 0; i < n; i++) SendProcSignal(to_wake[i].pid, PROCSIG_CATCHUP_INTERRUPT, to_wake[i].id);
}

ClusterLoad* cluster_slot_list(int* count) {
  SlotTable* table = existing_table();
  if (table == nullptr) {
    *count = 0;
    return static_cast<ClusterLoad*>(palloc0(sizeof(ClusterLoad)));
  }
  struct CountCopy {
    char name[kClusterNameSize];
    uint32 open;
    uint32 waiting;
  };
  CountCopy* copy = static_cast<CountCopy*>(palloc(sizeof(CountCopy) * kMaxClusters));
  lock(table);
  int used = table->used;
  for (int i = 0; i < used; i++) {
    memcpy(copy[i].name, table->clusters[i].name, kClusterNameSize);
    copy[i].open = pg_atomic_read_u32(&table->clusters[i].open);
    copy[i].waiting = pg_atomic_read_u32(&table->clusters[i].waiting);
  }
  unlock(table);
  ClusterLoad* list = static_cast<ClusterLoad*>(palloc0(sizeof(ClusterLoad) * Max(used, 1)));
  int n = 0;
  for (int i = 0; i < used; i++) {
    if (copy[i].open == 0 && copy[i].waiting == 0) continue;
    list[n++] = ClusterLoad{pstrdup(copy[i].name), static_cast<int>(copy[i].open), static_cast<int>(copy[i].waiting)};
  }
  pfree(copy);
  *count = n;
  return list;
}

}  // namespace multidb
