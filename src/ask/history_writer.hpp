// Writes an ask's history (query_history row, chat messages) in a transaction of its own, so that it
// survives the ask's failure and the caller's rollback: a background worker connects to this database as
// the asking role (row-level security applies) and runs multidb._record_ask().
//
// The worker is started by the backend's first ask, so that its start-up overlaps the LLM call and the remote
// queries; the record is handed over at the end through a shm_mq, and the ask waits for its commit. The worker then
// stays for the backend's next asks while it is idle less than kWriterIdleSeconds (history_writer.cpp): starting a
// worker costs 10-20 ms (a process, a database connection, cold caches), more than a whole ask whose plan and
// rows are cached. Kept writers hold a max_worker_processes slot only while their backend keeps asking, and only
// for the role they were started as (another current role starts a writer of its own).
//
// A kept writer never costs another ask its history row: an ask whose writer finds no free slot says so through the
// shared signal of foundation/worker_shortage.hpp and tries again every 10 ms for up to 1 s (interruptibly) before
// its WARNING; idle kept writers look at the signal every 50 ms and leave when it moved since they became idle (so
// they also make way for a fan-out whose worker found no slot). The signal needs multidb in
// shared_preload_libraries: without it no writer is kept (each ask starts its own, which leaves once the ask is
// recorded) and an ask without a slot gives up at once.
//
// It also gets, at each ask's start, the record of the ask as cancelled (status cancelled, the question, the
// session), in shared memory without being woken (a record too long for it comes as a message): when the asking
// backend ends before it hands the final record over — pg_terminate_backend, its client
// gone, a FATAL error — the writer records that one instead, so that no ask vanishes from the history. One
// transaction writes the history row and the session's messages: nothing is half-written.
#pragma once

#include "foundation/postgres.hpp"

namespace multidb {

struct HistoryWriter;

// Takes this backend's idle writer, or starts one, and hands it the record to write should the asking backend
// end first (nullptr: none). Without a free worker slot, the WARNING comes at finish time.
HistoryWriter* start_history_writer(const char* record_if_ended);

// Hands the record over and waits until it is committed; the writer is then kept for the next ask. Never
// raises for a failure to record: it says so in a WARNING (and the writer is let go). A cancel during the wait lets
// the writer go too; it still commits a record it had received whole. plan_hit_key: the plan cache key whose hit the
// writer counts (nullptr: none), in a transaction of its own once the ask's record is in: a cached ask's own
// transaction writes nothing, and it waits for the record alone.
void finish_history_writer(HistoryWriter* writer, const char* record_json, const char* plan_hit_key);

}  // namespace multidb

extern "C" PGDLLEXPORT void multidb_history_writer_main(Datum main_arg);
