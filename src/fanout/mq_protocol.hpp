// The messages a worker sends its caller on the slot's shm_mq (their kinds and layout: shared_call.hpp),
// encoder and decoder side by side, so that the two ends cannot drift apart.
//
// Owns: the bytes of 'T' (columns), 'D' (rows), 'C' (complete) and 'R' (refused) messages. May not touch:
// what a row becomes (row_sink.cpp) or what the worker does between messages (worker.cpp). 'E' and 'N' are
// Postgres's own error and notice messages (pq_redirect_to_shm_mq), decoded by pq_parse_errornotice.
#pragma once

#include "foundation/postgres.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "storage/shm_mq.h"
}

namespace multidb {

// ---- the worker's side --------------------------------------------------------------------------------------

struct MqWriter {
  shm_mq_handle* queue;
  StringInfoData message;
  void (*between_rows)();  // called after each row put into a message: the worker's interrupt checks
};

void mq_writer_init(MqWriter* writer, shm_mq_handle* queue, void (*between_rows)());

// Each returns false when the caller went away (the queue is detached).
bool mq_send_columns(MqWriter* writer, const PGresult* result);
bool mq_send_rows(MqWriter* writer, const PGresult* result);  // in messages of about 64 kB
bool mq_send_complete(MqWriter* writer, int64 rows);
bool mq_send_refused(MqWriter* writer);

// ---- the caller's side --------------------------------------------------------------------------------------

// A 'T' message, after its kind byte: the column count, then per column the type OID and the name (palloc'd).
int mq_read_column_count(StringInfo message);
void mq_read_columns(StringInfo message, int count, Oid* types, const char** names);

// A 'D' message, after its kind byte: calls on_row(arg, values) per row; values[i] points into the message
// (valid until the next receive) or is nullptr for NULL. A row of another width than columns is an ERROR.
void mq_read_rows(StringInfo message, int columns, void (*on_row)(void* arg, char** values), void* arg);

}  // namespace multidb
