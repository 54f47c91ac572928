// Writes an ask's history (query_history row, chat messages) in a transaction of its own, so that it
// survives the ask's failure and the caller's rollback: a short-lived background worker connects to this
// database as the asking role (row-level security applies) and runs multidb._record_ask().
#pragma once

#include "pg/postgres.hpp"

namespace multidb {

// Waits until the record is committed. Never raises for a failure to record: it says so in a WARNING.
void write_history_autonomously(const char* record_json);

}  // namespace multidb

extern "C" PGDLLEXPORT void multidb_history_writer_main(Datum main_arg);
