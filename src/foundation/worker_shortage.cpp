// The shortage signal of background worker slots: one atomic counter in shared memory when multidb is preloaded (the
// contract is in worker_shortage.hpp).
#include "foundation/worker_shortage.hpp"

#include "foundation/postgres.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace multidb {

namespace {

struct ShortageSignal {
  pg_atomic_uint64 shortages;
};

ShortageSignal* shared_signal = nullptr;  // set in the postmaster, inherited by every backend and worker

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void request_signal_memory() {
  if (previous_request_hook != nullptr) previous_request_hook();
  RequestAddinShmemSpace(sizeof(ShortageSignal));
}

void attach_signal() {
  if (previous_startup_hook != nullptr) previous_startup_hook();
  bool found;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  shared_signal = static_cast<ShortageSignal*>(ShmemInitStruct("multidb worker shortage", sizeof(ShortageSignal), &found));
  if (!found) pg_atomic_init_u64(&shared_signal->shortages, 0);
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void request_worker_shortage() {
  previous_request_hook = shmem_request_hook;
  shmem_request_hook = request_signal_memory;
  previous_startup_hook = shmem_startup_hook;
  shmem_startup_hook = attach_signal;
}

bool worker_shortage_shared() { return shared_signal != nullptr; }

void worker_shortage_note() {
  if (shared_signal != nullptr) pg_atomic_fetch_add_u64(&shared_signal->shortages, 1);
}

uint64_t worker_shortage_count() {
  return shared_signal != nullptr ? pg_atomic_read_u64(&shared_signal->shortages) : 0;
}

}  // namespace multidb
