// Live progress (multidb.progress = on): NOTICEs sent while a call runs, each "multidb progress: <event>" with
// one JSON object as its DETAIL (core/progress_event.hpp). The entry points (fanout, fanout_rows, ask, run_plan,
// compare) begin a call, the executor reports each database's start, rows, end and failure from the calling
// backend — also for targets that run in background workers, whose messages it reads — and the ask adds the
// plan, repairs, the combine step and the end. seq counts from 1 within a call. With the setting off each
// function returns at its first test.
#pragma once

#include "foundation/postgres.hpp"

namespace multidb {

// A rows event at most every kProgressRows rows or kProgressIntervalMs, whichever comes first (checked as each
// batch of rows arrives).
constexpr long kProgressRows = 10000;
constexpr int kProgressIntervalMs = 1000;

bool progress_on();
void progress_begin();  // a new call: seq starts again

void progress_plan(int count, const char* const* databases, const char* const* sqls, const char* combine);
void progress_started(const char* database);
void progress_rows(const char* database, int64 rows, double ms);
// finished and of (a fan-out's databases finished so far, this one included, failed ones too, and its number of
// databases) go into the event as "finished" and "of"; finished < 0: neither (a failure outside a fan-out).
// column_names (column_count of them, in the statement's order) go in as "columns"; nullptr: not known.
void progress_done(const char* database, int64 rows, double ms, int finished, int of, int column_count = 0,
                   const char* const* column_names = nullptr);
// error, or refused when multidb's checks refused the statement (the guard here, or the remote's catalog check)
void progress_failed(const char* database, int sqlstate, const char* message, bool refused, int finished = -1,
                     int of = 0);
void progress_repair(int round, const char* database, int sqlstate, const char* message);
// column_names as for progress_done: the combine step's columns.
void progress_combine(int64 rows, double ms, int column_count = 0, const char* const* column_names = nullptr);
// status: ok, partial, error, refused, cancelled; ok after an error event of the call (multidb.on_error = warn)
// is partial
void progress_end(const char* status, int64 rows, double ms);

}  // namespace multidb
