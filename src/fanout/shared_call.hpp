// The dynamic shared memory one fan-out call shares with its background workers: a fixed header, one
// slot per target (what to connect to, and a shm_mq that streams rows back), then the strings.
//
// Worker -> caller messages on a slot's queue (encoded and decoded in mq_protocol.cpp), first byte the kind:
//   'T' columns:  int16 count, then per column uint32 type oid and the name with its NUL
//   'D' rows:     int16 columns, int32 rows, then per row and column int32 length (-1 for NULL) and
//                 the bytes with a NUL
//   'C' complete: int64 rows sent
//   'R' refused:  no payload; the error that follows is multidb's own refusal (a privileged remote role,
//                 a volatile function on that remote), made before the statement was sent
//   'E' / 'N'     an error or notice of the worker itself, in the frontend/backend protocol's form
//                 (pq_redirect_to_shm_mq), re-raised by the caller
#pragma once

#include "foundation/postgres.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/shm_mq.h"
}

namespace multidb {

constexpr uint32 kSharedCallMagic = 0x6d646230;  // "mdb0"

struct SharedSlot {
  Size name_offset;
  Size sql_offset;
  Size check_sql_offset;
  Size check_parameters_offset;  // the same names as the gated checks' parameters (remote_pipeline.hpp)
  Size options_offset;  // "keyword\0value\0...\0" ended by an empty keyword
  Size queue_offset;
  int connect_timeout_s;
  bool require_password;
  bool allow_privileged_role;
  bool allow_implicit_volatile;
};

struct SharedCall {
  uint32 magic;
  pg_atomic_uint32 caller_ended;  // set before the caller terminates its workers: they then exit quietly
  int slot_count;
  Size queue_size;
  int fetch_size;
  int statement_timeout_ms;  // multidb.statement_timeout under its cap (effective_statement_timeout_ms): what the
                             // set-up lowers the remote's limit to, and multidb's deadline for every answer
  bool catalog_search_path;  // multidb's own statement (FanoutRequest)
  bool describe_only;        // described, not run (FanoutRequest)
  Size setup_sql_offset;
  Size timezone_offset;  // the TimeZone the pipeline's settings set
  Size allowed_volatile_offset;  // multidb.extra_allowed_volatile_functions: workers do not see the caller's
  SharedSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

// A slot's packed libpq options ("keyword\0value\0...\0") -> two nullptr-terminated arrays, palloc'd.
void unpack_options(const char* packed, const char*** keywords, const char*** values);

inline const char* shared_string(const SharedCall* call, Size offset) {
  return reinterpret_cast<const char*>(call) + offset;
}

inline shm_mq* shared_queue(SharedCall* call, int slot) {
  return reinterpret_cast<shm_mq*>(reinterpret_cast<char*>(call) + call->slots[slot].queue_offset);
}

enum MessageKind : char {
  kColumnsMessage = 'T',
  kRowMessage = 'D',
  kCompleteMessage = 'C',
  kRefusedMessage = 'R',
  kErrorMessage = 'E',
  kNoticeMessage = 'N',
};

}  // namespace multidb

extern "C" PGDLLEXPORT void multidb_worker_main(Datum main_arg);
