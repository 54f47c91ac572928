// A remote value in its type's binary form into a Datum of that type, with the type's own checks: through its
// receive function, as Postgres reads a bind parameter, or, for the receive functions that only read a number or
// text and check it (the integers, oid, the floats, bool, date, timestamp and timestamptz without a typmod, text),
// read here with exactly their checks and errors. A large fan-out's rows spend a tenth of the coordinator's time in
// those calls: the fmgr call per value, and timestamptz_recv's range check, which converts every value to the
// session's time zone although a value in range always converts (timestamp2tm fails only before Julian day 0, which
// is MIN_TIMESTAMP).
#include "fanout/fanout_internal.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
}

namespace multidb {

namespace {

void left_unread(int unread, int length) {
  ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                  errmsg("incorrect binary data format: %d of the value's %d bytes were left unread", unread, length)));
}

// The value must be exactly `size` bytes: fewer is pq_getmsgint's own error, more is receive_value's.
void expect_size(int length, int size) {
  if (length < size)
    ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION), errmsg("insufficient data left in message")));
  if (length > size) left_unread(length - size, length);
}

// Network byte order, read where it lies (libpq's values have no alignment).
uint16 read16(const char* bytes) {
  uint16 value;
  memcpy(&value, bytes, sizeof(value));
  return pg_ntoh16(value);
}

uint32 read32(const char* bytes) {
  uint32 value;
  memcpy(&value, bytes, sizeof(value));
  return pg_ntoh32(value);
}

uint64 read64(const char* bytes) {
  uint64 value;
  memcpy(&value, bytes, sizeof(value));
  return pg_ntoh64(value);
}

// timestamp_recv's and timestamptz_recv's check: infinite, or what timestamp_out can print.
Timestamp checked_timestamp(const char* bytes, int length) {
  expect_size(length, sizeof(int64));
  Timestamp value = static_cast<Timestamp>(read64(bytes));
  if (!TIMESTAMP_NOT_FINITE(value) && !IS_VALID_TIMESTAMP(value))
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
  return value;
}

// The value read here, or false where its receive function must read it.
bool read_directly(Oid receive_function, int32 typmod, const char* bytes, int length, Datum* value) {
  switch (receive_function) {
    case F_INT2RECV:
      expect_size(length, sizeof(int16));
      *value = Int16GetDatum(static_cast<int16>(read16(bytes)));
      return true;
    case F_INT4RECV:
      expect_size(length, sizeof(int32));
      *value = Int32GetDatum(static_cast<int32>(read32(bytes)));
      return true;
    case F_OIDRECV:
      expect_size(length, sizeof(Oid));
      *value = ObjectIdGetDatum(static_cast<Oid>(read32(bytes)));
      return true;
    case F_INT8RECV:
      expect_size(length, sizeof(int64));
      *value = Int64GetDatum(static_cast<int64>(read64(bytes)));
      return true;
    case F_FLOAT4RECV: {
      expect_size(length, sizeof(float4));
      uint32 bits = read32(bytes);
      float4 number;
      memcpy(&number, &bits, sizeof(number));
      *value = Float4GetDatum(number);
      return true;
    }
    case F_FLOAT8RECV: {
      expect_size(length, sizeof(float8));
      uint64 bits = read64(bytes);
      float8 number;
      memcpy(&number, &bits, sizeof(number));
      *value = Float8GetDatum(number);
      return true;
    }
    case F_BOOLRECV:
      expect_size(length, 1);
      *value = BoolGetDatum(bytes[0] != 0);
      return true;
    case F_DATE_RECV: {
      expect_size(length, sizeof(DateADT));
      DateADT date = static_cast<DateADT>(read32(bytes));
      if (!DATE_NOT_FINITE(date) && !IS_VALID_DATE(date))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("date out of range")));
      *value = DateADTGetDatum(date);
      return true;
    }
    case F_TIMESTAMP_RECV:
      if (typmod >= 0) return false;  // rounded to the precision by AdjustTimestampForTypmod
      *value = TimestampGetDatum(checked_timestamp(bytes, length));
      return true;
    case F_TIMESTAMPTZ_RECV:
      if (typmod >= 0) return false;
      *value = TimestampTzGetDatum(checked_timestamp(bytes, length));
      return true;
    case F_TEXTRECV:
      // textrecv converts from client_encoding (pq_getmsgtext); where that is the database's, it only verifies.
      if (pg_get_client_encoding() != GetDatabaseEncoding()) return false;
      pg_verify_mbstr(GetDatabaseEncoding(), bytes, length, false);
      *value = PointerGetDatum(cstring_to_text_with_len(bytes, length));
      return true;
    default:
      return false;
  }
}

}  // namespace

// The receive function checks what it reads (a short or malformed value is an ERROR, never a read past the value), and
// bytes left over are an ERROR too (as record_recv and array_recv say it). libpq ends every value with a NUL byte,
// which StringInfo's convention wants, so the value is read where it lies. A NULL goes to the function (a domain's
// NOT NULL).
Datum receive_value(FmgrInfo* function, Oid ioparam, int32 typmod, char* bytes, int length) {
  Datum value;
  if (bytes == nullptr) return ReceiveFunctionCall(function, nullptr, ioparam, typmod);
  if (read_directly(function->fn_oid, typmod, bytes, length, &value)) return value;
  StringInfoData buffer;
  buffer.data = bytes;
  buffer.len = length;
  buffer.maxlen = length + 1;
  buffer.cursor = 0;
  value = ReceiveFunctionCall(function, &buffer, ioparam, typmod);
  if (buffer.cursor != buffer.len) left_unread(buffer.len - buffer.cursor, buffer.len);
  return value;
}

}  // namespace multidb
