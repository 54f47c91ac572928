#include "fanout/mq_protocol.hpp"

#include "fanout/shared_call.hpp"

extern "C" {
#include "libpq/pqformat.h"
}

namespace multidb {

namespace {

// Rows go out in messages of about kRowMessageBytes: one message per row would cost a queue operation each,
// one per batch could be as large as the batch.
constexpr int kRowMessageBytes = 64 * 1024;

template <typename T>
void append_value(StringInfo out, const T& value) {
  appendBinaryStringInfo(out, reinterpret_cast<const char*>(&value), sizeof(value));
}

void start_rows_message(MqWriter* writer, int16 columns) {
  resetStringInfo(&writer->message);
  appendStringInfoChar(&writer->message, kRowMessage);
  append_value(&writer->message, columns);
  int32 rows = 0;
  append_value(&writer->message, rows);  // patched when the message is sent
}

bool send_rows_message(MqWriter* writer, int32 rows) {
  memcpy(writer->message.data + 1 + sizeof(int16), &rows, sizeof(rows));
  return shm_mq_send(writer->queue, writer->message.len, writer->message.data, false, false) == SHM_MQ_SUCCESS;
}

}  // namespace

void mq_writer_init(MqWriter* writer, shm_mq_handle* queue, void (*between_rows)()) {
  writer->queue = queue;
  initStringInfo(&writer->message);
  writer->between_rows = between_rows;
}

bool mq_send_columns(MqWriter* writer, const PGresult* result) {
  resetStringInfo(&writer->message);
  appendStringInfoChar(&writer->message, kColumnsMessage);
  int16 count = PQnfields(result);
  append_value(&writer->message, count);
  for (int i = 0; i < count; i++) {
    uint32 type = PQftype(result, i);
    append_value(&writer->message, type);
    const char* name = PQfname(result, i);
    appendBinaryStringInfo(&writer->message, name, strlen(name) + 1);
  }
  return shm_mq_send(writer->queue, writer->message.len, writer->message.data, false, false) == SHM_MQ_SUCCESS;
}

bool mq_send_rows(MqWriter* writer, const PGresult* result) {
  int16 columns = PQnfields(result);
  int total = PQntuples(result);
  int32 in_message = 0;
  start_rows_message(writer, columns);
  for (int row = 0; row < total; row++) {
    for (int i = 0; i < columns; i++) {
      int32 length = PQgetisnull(result, row, i) ? -1 : PQgetlength(result, row, i);
      append_value(&writer->message, length);
      if (length >= 0) appendBinaryStringInfo(&writer->message, PQgetvalue(result, row, i), length + 1);
    }
    in_message++;
    if (writer->message.len >= kRowMessageBytes || row == total - 1) {
      if (!send_rows_message(writer, in_message)) return false;
      start_rows_message(writer, columns);
      in_message = 0;
    }
    if (writer->between_rows != nullptr) writer->between_rows();
  }
  return true;
}

bool mq_send_complete(MqWriter* writer, int64 rows) {
  resetStringInfo(&writer->message);
  appendStringInfoChar(&writer->message, kCompleteMessage);
  append_value(&writer->message, rows);
  // force_flush: the caller may be waiting for exactly this
  return shm_mq_send(writer->queue, writer->message.len, writer->message.data, false, true) == SHM_MQ_SUCCESS;
}

bool mq_send_refused(MqWriter* writer) {
  resetStringInfo(&writer->message);
  appendStringInfoChar(&writer->message, kRefusedMessage);
  return shm_mq_send(writer->queue, writer->message.len, writer->message.data, false, false) == SHM_MQ_SUCCESS;
}

int mq_read_column_count(StringInfo message) {
  int16 count;
  pq_copymsgbytes(message, reinterpret_cast<char*>(&count), sizeof(count));
  return count;
}

void mq_read_columns(StringInfo message, int count, Oid* types, const char** names) {
  for (int i = 0; i < count; i++) {
    uint32 type;
    pq_copymsgbytes(message, reinterpret_cast<char*>(&type), sizeof(type));
    types[i] = type;
    names[i] = pstrdup(pq_getmsgrawstring(message));  // as the remote sent it: no client encoding applies
  }
}

void mq_read_rows(StringInfo message, int columns, void (*on_row)(void* arg, char** values), void* arg) {
  int16 width;
  int32 rows;
  pq_copymsgbytes(message, reinterpret_cast<char*>(&width), sizeof(width));
  pq_copymsgbytes(message, reinterpret_cast<char*>(&rows), sizeof(rows));
  if (width != columns) elog(ERROR, "multidb worker sent rows of %d columns, expected %d", width, columns);
  char** values = static_cast<char**>(palloc(sizeof(char*) * Max(width, 1)));
  for (int row = 0; row < rows; row++) {
    for (int i = 0; i < width; i++) {
      int32 length;
      pq_copymsgbytes(message, reinterpret_cast<char*>(&length), sizeof(length));
      // The worker sent the NUL too.
      values[i] = length < 0 ? nullptr : const_cast<char*>(pq_getmsgbytes(message, length + 1));
    }
    on_row(arg, values);
  }
  pfree(values);
}

}  // namespace multidb
