// A shared signal that a background worker could not be started for want of a max_worker_processes slot, so that
// processes holding a slot they can give up at once — the history writers kept idle for their backend's next ask
// (ask/history_writer.hpp) — give it up for the worker that needs it.
//
// Contract:
//   - The signal is a counter in shared memory, so it exists only with multidb in shared_preload_libraries
//     (worker_shortage_shared()); otherwise noting a shortage does nothing and the count stays 0.
//   - Whoever fails to register a background worker notes it (worker_shortage_note()), again at each retry; a
//     process that holds a slot it could give up remembers the count when it became idle and leaves as soon as the
//     count moved. Nothing waits on the counter: the holders look at it often enough (history_writer.cpp).
//   - Never raises, takes no lock: atomics only.
#pragma once

#include <cstdint>

namespace multidb {

// From _PG_init while shared_preload_libraries is processed: ask for the counter's shared memory.
void request_worker_shortage();

bool worker_shortage_shared();

// A background worker could not be registered just now (no free slot).
void worker_shortage_note();

// Shortages noted since the server started (0 when not shared).
uint64_t worker_shortage_count();

}  // namespace multidb
