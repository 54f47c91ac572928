// Writes an ask's history (query_history row, chat messages) in a transaction of its own, so that it
// survives the ask's failure and the caller's rollback: a background worker connects to this database as
// the asking role (row-level security applies) and runs multidb._record_ask().
//
// The worker is started when the ask starts, so that its start-up overlaps the LLM call and the remote
// queries; the record is handed over at the end through a shm_mq, and the ask waits for its commit.
//
// It also gets, at its start, the record of the ask as cancelled (status cancelled, the question, the session): when
// the asking backend ends before it hands the final record over — pg_terminate_backend, its client gone, a FATAL
// error — the writer records that one instead, so that no ask vanishes from the history. One transaction writes
// the history row and the session's messages: nothing is half-written.
#pragma once

#include "foundation/postgres.hpp"

namespace multidb {

struct HistoryWriter;

// Starts the writer with the record to write should the asking backend end first (nullptr: none).
// Without a free worker slot, the WARNING comes at finish time.
HistoryWriter* start_history_writer(const char* record_if_ended);

// Hands the record over and waits until it is committed. Never raises for a failure to record: it says so
// in a WARNING.
void finish_history_writer(HistoryWriter* writer, const char* record_json);

}  // namespace multidb

extern "C" PGDLLEXPORT void multidb_history_writer_main(Datum main_arg);
