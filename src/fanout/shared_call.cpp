// The DSM segment one fan-out call shares with its workers (its layout: shared_call.hpp): packed here by
// the caller (unpack_options, for the worker, is here too), with the remote session's set-up every target of the
// call sends, and the detach callback that terminates the call's workers with it.
#include "fanout/fanout_internal.hpp"

#include "foundation/settings.hpp"

extern "C" {
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
}

namespace multidb {

namespace {

// Workers do not see the caller's settings: this one travels in the segment.
const char* allowed_volatile_setting() { return extra_allowed_volatile_functions ? extra_allowed_volatile_functions : ""; }

void terminate_workers(dsm_segment*, Datum arg) {
  WorkerSet* workers = reinterpret_cast<WorkerSet*>(DatumGetPointer(arg));
  // Still mapped here: the workers learn that this is the caller's doing, not an administrator's.
  pg_atomic_write_u32(&workers->shared->caller_ended, 1);
  for (int i = 0; i < workers->count; i++) {
    if (workers->handles[i] != nullptr) {
      TerminateBackgroundWorker(workers->handles[i]);
      pfree(workers->handles[i]);
    }
  }
  pfree(workers);
}

Size packed_options_size(const RemoteTarget* target) {
  Size size = 1;
  for (int i = 0; target->keywords[i] != nullptr; i++)
    size += strlen(target->keywords[i]) + 1 + strlen(target->values[i]) + 1;
  return size;
}

char* pack_options(char* out, const RemoteTarget* target) {
  for (int i = 0; target->keywords[i] != nullptr; i++) {
    out = stpcpy(out, target->keywords[i]) + 1;
    out = stpcpy(out, target->values[i]) + 1;
  }
  *out++ = '\0';
  return out;
}

// The remote's own statement_timeout — its role's, database's or server's setting, or a -c in the server's options —
// is never raised: RESET returns it to that default (whatever an earlier call on a kept connection left), and inside
// the transaction only (set_config's is_local, undone by its ROLLBACK) it is lowered to multidb's limit when the
// default is none ("0") or longer. The comparison runs on the remote, fresh at every call. Its SELECT runs as a
// cursor that MOVE reads — a plain SELECT would add a result the set-up does not expect (remote.hpp); the ROLLBACK
// closes it — and it names only pg_catalog's functions and types, with no operator, so that neither the remote
// role's search_path nor an object in a schema the role can write changes what it computes. It costs the remote
// about 0.1 ms per call.
const char* lower_statement_timeout_sql(int timeout_ms) {
  if (timeout_ms <= 0) return "";
  return psprintf(
      "; DECLARE multidb_limits NO SCROLL CURSOR FOR SELECT pg_catalog.set_config('statement_timeout', '%d', true) "
      "WHERE pg_catalog.texteq(pg_catalog.current_setting('statement_timeout'), '0') "
      "OR pg_catalog.interval_gt(CAST(pg_catalog.current_setting('statement_timeout') AS pg_catalog.interval), "
      "CAST('%d ms' AS pg_catalog.interval)); MOVE NEXT IN multidb_limits",
      timeout_ms, timeout_ms);
}

const char* remote_setup_sql(int statement_timeout_ms) {
  // Values come back as text in forms every server and every local input function agree on.
  return psprintf(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; SET TimeZone = %s; "
      "RESET statement_timeout; SET cursor_tuple_fraction = 1; BEGIN TRANSACTION READ ONLY%s",
      quote_literal_cstr(pg_get_timezone_name(session_timezone)), lower_statement_timeout_sql(statement_timeout_ms));
}

}  // namespace

bool call_uses_workers() { return max_workers > 0 && !keep_connections; }

const char* target_sql(const FanoutRequest* request, int i) {
  return request->sqls != nullptr ? request->sqls[i] : request->sql;
}

void create_shared_call(Fanout* fanout) {
  const FanoutRequest* request = fanout->request;
  int n = request->target_count;
  Size queue_size = call_uses_workers() ? Max(kMinQueueSize, Min(kMaxQueueSize, kAllQueuesBudget / n)) : 0;
  int statement_timeout_ms = effective_statement_timeout_ms();
  const char* setup_sql = remote_setup_sql(statement_timeout_ms);
  const char* allowed_volatile = allowed_volatile_setting();
  const char* timezone = pg_get_timezone_name(session_timezone);

  Size size = MAXALIGN(offsetof(SharedCall, slots) + sizeof(SharedSlot) * n);
  Size queues_offset = size;
  size += queue_size * n;
  Size strings_offset = size;
  size += strlen(setup_sql) + 1 + strlen(allowed_volatile) + 1 + strlen(timezone) + 1;
  // A statement and its checks shared by every target (the same text, one pointer) are stored once.
  for (int i = 0; i < n; i++) {
    size += strlen(request->targets[i].name) + 1 + packed_options_size(&request->targets[i]);
    if (i == 0 || target_sql(request, i) != target_sql(request, i - 1)) size += strlen(target_sql(request, i)) + 1;
    if (i == 0 || fanout->channels[i].check_sql != fanout->channels[i - 1].check_sql)
      size += strlen(fanout->channels[i].check_sql) + 1 + strlen(fanout->channels[i].check_parameters) + 1;
  }

  // A call that starts no worker (kept connections, multidb.max_workers = 0) shares nothing: its layout in the
  // caller's memory spares a segment's creation and removal per call (shm_open, ftruncate, mmap, munmap, unlink).
  SharedCall* shared;
  if (call_uses_workers()) {
    fanout->segment = dsm_create(size, 0);
    shared = static_cast<SharedCall*>(dsm_segment_address(fanout->segment));
  } else {
    fanout->segment = nullptr;
    shared = static_cast<SharedCall*>(palloc(size));
  }
  shared->magic = kSharedCallMagic;
  pg_atomic_init_u32(&shared->caller_ended, 0);
  shared->slot_count = n;
  shared->queue_size = queue_size;
  shared->fetch_size = fetch_size;
  shared->statement_timeout_ms = statement_timeout_ms;
  shared->catalog_search_path = request->catalog_search_path;
  shared->describe_only = request->describe_only;
  char* strings = reinterpret_cast<char*>(shared) + strings_offset;
  char* out = strings;
  shared->setup_sql_offset = out - reinterpret_cast<char*>(shared);
  out = stpcpy(out, setup_sql) + 1;
  shared->allowed_volatile_offset = out - reinterpret_cast<char*>(shared);
  out = stpcpy(out, allowed_volatile) + 1;
  shared->timezone_offset = out - reinterpret_cast<char*>(shared);
  out = stpcpy(out, timezone) + 1;
  for (int i = 0; i < n; i++) {
    SharedSlot* slot = &shared->slots[i];
    slot->name_offset = out - reinterpret_cast<char*>(shared);
    out = stpcpy(out, request->targets[i].name) + 1;
    if (i > 0 && target_sql(request, i) == target_sql(request, i - 1)) {
      slot->sql_offset = shared->slots[i - 1].sql_offset;
    } else {
      slot->sql_offset = out - reinterpret_cast<char*>(shared);
      out = stpcpy(out, target_sql(request, i)) + 1;
    }
    if (i > 0 && fanout->channels[i].check_sql == fanout->channels[i - 1].check_sql) {
      slot->check_sql_offset = shared->slots[i - 1].check_sql_offset;
      slot->check_parameters_offset = shared->slots[i - 1].check_parameters_offset;
    } else {
      slot->check_sql_offset = out - reinterpret_cast<char*>(shared);
      out = stpcpy(out, fanout->channels[i].check_sql) + 1;
      slot->check_parameters_offset = out - reinterpret_cast<char*>(shared);
      out = stpcpy(out, fanout->channels[i].check_parameters) + 1;
    }
    slot->options_offset = out - reinterpret_cast<char*>(shared);
    out = pack_options(out, &request->targets[i]);
    slot->queue_offset = queues_offset + queue_size * i;
    slot->connect_timeout_s = request->targets[i].connect_timeout_s;
    slot->require_password = request->targets[i].require_password;
    slot->allow_privileged_role = request->targets[i].allow_privileged_role;
    slot->allow_implicit_volatile = request->targets[i].allow_implicit_volatile;
  }
  fanout->shared = shared;
  if (fanout->segment == nullptr) return;

  fanout->workers = static_cast<WorkerSet*>(
      MemoryContextAllocZero(TopMemoryContext, offsetof(WorkerSet, handles) + sizeof(BackgroundWorkerHandle*) * n));
  fanout->workers->shared = shared;
  fanout->workers->count = n;
  on_dsm_detach(fanout->segment, terminate_workers, PointerGetDatum(fanout->workers));
}

// "keyword\0value\0...\0" -> two nullptr-terminated arrays.
void unpack_options(const char* packed, const char*** keywords, const char*** values) {
  int count = 0;
  for (const char* p = packed; *p != '\0'; p += strlen(p) + 1, p += strlen(p) + 1) count++;
  *keywords = static_cast<const char**>(palloc0(sizeof(char*) * (count + 1)));
  *values = static_cast<const char**>(palloc0(sizeof(char*) * (count + 1)));
  const char* p = packed;
  for (int i = 0; i < count; i++) {
    (*keywords)[i] = p;
    p += strlen(p) + 1;
    (*values)[i] = p;
    p += strlen(p) + 1;
  }
}

}  // namespace multidb
