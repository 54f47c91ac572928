#include "dispatch/fanout_executor.hpp"

#include "core/json_row.hpp"
#include "dispatch/remote.hpp"
#include "dispatch/shared_call.hpp"
#include "pg/boundary.hpp"
#include "pg/settings.hpp"
#include "pg/sql_guard.hpp"

#include <string>
#include <vector>

extern "C" {
#include "access/htup_details.h"
#include "access/transam.h"
#include "pgtime.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

constexpr Size kMaxQueueSize = 1024 * 1024;
constexpr Size kMinQueueSize = 64 * 1024;
constexpr Size kAllQueuesBudget = 16 * 1024 * 1024;
constexpr int kMessagesPerTurn = 4096;  // then look at the other targets and at interrupts

enum class ChannelState { kWaiting, kWorker, kLocal, kFinished };

struct Channel {
  const RemoteTarget* target;
  int index;
  ChannelState state;
  shm_mq_handle* queue;
  BackgroundWorkerHandle* worker;  // in TopMemoryContext, owned by WorkerSet
  RemoteSession local;
  bool local_ready;  // the local socket reported the event it waited for
  bool refused;      // the worker said its next error is a refusal
  const char* check_sql;
  pgsocket registered_socket;  // in the call's WaitEventSet (PGINVALID_SOCKET: not there)
  int registered_position;
  int registered_events;
  int local_wait_events;

  bool columns_known;
  int column_count;
  Oid* column_types;
  const char** column_names;
  JsonbValue* json_keys;
  JsonKind* json_kinds;

  Tuplestorestate* held_rows;  // rows that arrived before the earlier connections finished
  // kPerTarget: the target's own result
  TupleDesc own_desc;
  Tuplestorestate* own_rows;
  FmgrInfo* own_input_functions;
  Oid* own_input_ioparams;
  int64 rows;
  TimestampTz started_at;
};

// Registered with on_dsm_detach: when the call ends, normally or by an error or a cancel, no worker
// outlives the shared memory it was reading.
struct WorkerSet {
  SharedCall* shared;
  int count;
  BackgroundWorkerHandle* handles[FLEXIBLE_ARRAY_MEMBER];
};

struct Fanout {
  const FanoutRequest* request;  // the caller's: valid only while run_fanout runs
  Channel* channels;
  int channel_count;
  int head;  // first channel whose rows are not all in the result yet
  int active;
  int next_to_start;
  dsm_segment* segment;
  SharedCall* shared;
  WorkerSet* workers;
  MemoryContext row_context;
  TupleTableSlot* move_slot;
  MemoryContext caller_context;
  // kTyped
  FmgrInfo* input_functions;
  Oid* input_ioparams;
  int32* input_typmods;
  // error context while converting a value
  Channel* converting_channel;
  int converting_column;
  // The in-backend connections' sockets and the latch, built once and rebuilt only when the set of sockets
  // changes (a connection starts, ends, or libpq moves to another socket while connecting); between, only
  // the events each socket waits for are changed.
  WaitEventSet* wait_set;
};

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

// ---- shared memory ------------------------------------------------------------------------------------

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

const char* target_sql(const FanoutRequest* request, int i) {
  return request->sqls != nullptr ? request->sqls[i] : request->sql;
}

const char* remote_setup_sql() {
  // Values come back as text in forms every server and every local input function agree on.
  return psprintf(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; SET TimeZone = %s; "
      "SET statement_timeout = %d; SET cursor_tuple_fraction = 1; BEGIN TRANSACTION READ ONLY",
      quote_literal_cstr(pg_get_timezone_name(session_timezone)), remote_statement_timeout_ms);
}

const char* allowed_volatile_setting() { return extra_allowed_volatile_functions ? extra_allowed_volatile_functions : ""; }

// What the remote is asked about the statement's names, with its set-up.
const char* remote_check_sql(const CalledNames* names) {
  char* sql = nullptr;
  CppError error = cpp_call([&] {
    StatementNames wanted;
    auto add = [](List* from, std::vector<std::string>* to) {
      ListCell* cell;
      foreach (cell, from) to->emplace_back(static_cast<const char*>(lfirst(cell)));
    };
    add(names->functions, &wanted.functions);
    add(names->attribute_calls, &wanted.attribute_calls);
    add(names->operators, &wanted.operators);
    add(names->types, &wanted.types);
    std::string text = build_remote_check_sql(wanted);
    sql = static_cast<char*>(malloc(text.size() + 1));
    if (sql == nullptr) throw std::bad_alloc();
    memcpy(sql, text.c_str(), text.size() + 1);
  });
  raise_cpp_error(error, "building the remote check");
  char* copy = pstrdup(sql);
  free(sql);
  return copy;
}

// The guard's judgement of exactly what each remote will receive.
void judge_targets(Fanout* fanout) {
  const FanoutRequest* request = fanout->request;
  if (request->sqls == nullptr) {
    GuardVerdict verdict = require_read_only(request->sql, describe_targets(request->targets, request->target_count));
    const char* check_sql = remote_check_sql(&verdict.names);
    for (int i = 0; i < fanout->channel_count; i++) fanout->channels[i].check_sql = check_sql;
    return;
  }
  for (int i = 0; i < fanout->channel_count; i++) {
    GuardVerdict verdict = require_read_only(request->sqls[i], describe_targets(&request->targets[i], 1));
    fanout->channels[i].check_sql = remote_check_sql(&verdict.names);
  }
}

void create_shared_call(Fanout* fanout) {
  const FanoutRequest* request = fanout->request;
  int n = request->target_count;
  Size queue_size = Max(kMinQueueSize, Min(kMaxQueueSize, kAllQueuesBudget / n));
  const char* setup_sql = remote_setup_sql();
  const char* allowed_volatile = allowed_volatile_setting();

  Size size = MAXALIGN(offsetof(SharedCall, slots) + sizeof(SharedSlot) * n);
  Size queues_offset = size;
  size += queue_size * n;
  Size strings_offset = size;
  size += strlen(setup_sql) + 1 + strlen(allowed_volatile) + 1;
  for (int i = 0; i < n; i++)
    size += strlen(request->targets[i].name) + 1 + packed_options_size(&request->targets[i]) +
            strlen(target_sql(request, i)) + 1 + strlen(fanout->channels[i].check_sql) + 1;

  fanout->segment = dsm_create(size, 0);
  SharedCall* shared = static_cast<SharedCall*>(dsm_segment_address(fanout->segment));
  shared->magic = kSharedCallMagic;
  pg_atomic_init_u32(&shared->caller_ended, 0);
  shared->slot_count = n;
  shared->queue_size = queue_size;
  shared->fetch_size = fetch_size;
  shared->statement_timeout_ms = remote_statement_timeout_ms;
  char* strings = reinterpret_cast<char*>(shared) + strings_offset;
  char* out = strings;
  shared->setup_sql_offset = out - reinterpret_cast<char*>(shared);
  out = stpcpy(out, setup_sql) + 1;
  shared->allowed_volatile_offset = out - reinterpret_cast<char*>(shared);
  out = stpcpy(out, allowed_volatile) + 1;
  for (int i = 0; i < n; i++) {
    SharedSlot* slot = &shared->slots[i];
    slot->name_offset = out - reinterpret_cast<char*>(shared);
    out = stpcpy(out, request->targets[i].name) + 1;
    slot->sql_offset = out - reinterpret_cast<char*>(shared);
    out = stpcpy(out, target_sql(request, i)) + 1;
    slot->check_sql_offset = out - reinterpret_cast<char*>(shared);
    out = stpcpy(out, fanout->channels[i].check_sql) + 1;
    slot->options_offset = out - reinterpret_cast<char*>(shared);
    out = pack_options(out, &request->targets[i]);
    slot->queue_offset = queues_offset + queue_size * i;
    slot->connect_timeout_s = request->targets[i].connect_timeout_s;
    slot->require_password = request->targets[i].require_password;
    slot->allow_privileged_role = request->targets[i].allow_privileged_role;
  }
  fanout->shared = shared;

  fanout->workers = static_cast<WorkerSet*>(
      MemoryContextAllocZero(TopMemoryContext, offsetof(WorkerSet, handles) + sizeof(BackgroundWorkerHandle*) * n));
  fanout->workers->shared = shared;
  fanout->workers->count = n;
  on_dsm_detach(fanout->segment, terminate_workers, PointerGetDatum(fanout->workers));
}

// ---- starting targets -----------------------------------------------------------------------------------

bool start_worker(Fanout* fanout, Channel* channel) {
  int i = channel->index;
  shm_mq* mq = shm_mq_create(shared_queue(fanout->shared, i), fanout->shared->queue_size);
  shm_mq_set_receiver(mq, MyProc);

  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  snprintf(worker.bgw_name, BGW_MAXLEN, "multidb worker for connection \"%s\"", channel->target->name);
  snprintf(worker.bgw_type, BGW_MAXLEN, "multidb worker");
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_ConsistentState;
  worker.bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "multidb");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "multidb_worker_main");
  worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(fanout->segment));
  worker.bgw_notify_pid = MyProcPid;
  memcpy(worker.bgw_extra, &i, sizeof(i));

  MemoryContext caller_context = MemoryContextSwitchTo(TopMemoryContext);
  BackgroundWorkerHandle* handle = nullptr;
  bool registered = RegisterDynamicBackgroundWorker(&worker, &handle);
  MemoryContextSwitchTo(caller_context);
  if (!registered) return false;

  fanout->workers->handles[i] = handle;
  channel->worker = handle;
  channel->queue = shm_mq_attach(mq, fanout->segment, handle);
  channel->state = ChannelState::kWorker;
  return true;
}

void start_local(Fanout* fanout, Channel* channel, bool wanted_worker) {
  if (wanted_worker)
    ereport(DEBUG1, (errmsg_internal("multidb: no background worker slot free for connection \"%s\"; "
                                     "running it in this backend",
                                     channel->target->name)));
  const RemoteTarget* target = channel->target;
  SharedCall* shared = fanout->shared;
  RemoteStatement statement{shared_string(shared, shared->setup_sql_offset), channel->check_sql,
                            target_sql(fanout->request, channel->index),
                            shared_string(shared, shared->allowed_volatile_offset)};
  remote_init(&channel->local, target->name, target->keywords, target->values, &statement, target->require_password,
              target->allow_privileged_role, target->connect_timeout_s, remote_statement_timeout_ms, fetch_size);
  channel->local_ready = true;
  channel->state = ChannelState::kLocal;
}

// multidb.max_workers = 0 runs every target inside this backend, all at once.
void start_more(Fanout* fanout) {
  bool use_workers = max_workers > 0;
  while (fanout->next_to_start < fanout->request->target_count && (!use_workers || fanout->active < max_workers)) {
    Channel* channel = &fanout->channels[fanout->next_to_start++];
    channel->started_at = GetCurrentTimestamp();
    if (!use_workers || !start_worker(fanout, channel)) start_local(fanout, channel, use_workers);
    fanout->active++;
  }
}

// ---- rows -----------------------------------------------------------------------------------------------

const char* describe_remote_columns(const Channel* channel) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < channel->column_count; i++) {
    Oid type = channel->column_types[i];
    // Built-in types have the same OID on every server; others can only be named by number.
    const char* type_name = type < FirstGenbkiObjectId ? format_type_be(type) : psprintf("type with OID %u", type);
    appendStringInfo(&text, "%s%s %s", i > 0 ? ", " : "", quote_identifier(channel->column_names[i]), type_name);
  }
  return text.data;
}

void make_json_keys(int n, const char* const* names, const Oid* types, JsonbValue** keys_out, JsonKind** kinds_out) {
  JsonbValue* keys = static_cast<JsonbValue*>(palloc0(sizeof(JsonbValue) * Max(n, 1)));
  JsonKind* kinds = static_cast<JsonKind*>(palloc(sizeof(JsonKind) * Max(n, 1)));
  // Filled inside the C++ scope with malloc'd copies, turned into palloc'd ones after it.
  char** unique_names = static_cast<char**>(palloc0(sizeof(char*) * Max(n, 1)));
  CppError error = cpp_call([&] {
    std::vector<std::string> given(names, names + n);
    std::vector<std::string> unique = unique_column_keys(given);
    for (int i = 0; i < n; i++) {
      unique_names[i] = strdup(unique[i].c_str());
      if (unique_names[i] == nullptr) throw std::bad_alloc();
    }
  });
  if (error.failed)
    for (int i = 0; i < n; i++) free(unique_names[i]);
  raise_cpp_error(error, "naming the result's columns");
  for (int i = 0; i < n; i++) {
    char* key = pstrdup(unique_names[i]);
    free(unique_names[i]);
    keys[i].type = jbvString;
    keys[i].val.string.val = key;
    keys[i].val.string.len = strlen(key);
    kinds[i] = json_kind_for_type(types[i]);
  }
  *keys_out = keys;
  *kinds_out = kinds;
}

void prepare_json_keys(Channel* channel) {
  make_json_keys(channel->column_count, channel->column_names, channel->column_types, &channel->json_keys,
                 &channel->json_kinds);
}

// A remote column's type here: a built-in type has the same OID on every server; any other (an enum, a
// domain, an extension's type) may not exist here, so its text form is kept.
Oid local_column_type(Oid remote_type) {
  if (remote_type >= FirstGenbkiObjectId) return TEXTOID;
  HeapTuple type = SearchSysCache1(TYPEOID, ObjectIdGetDatum(remote_type));
  if (!HeapTupleIsValid(type)) return TEXTOID;
  bool usable = reinterpret_cast<Form_pg_type>(GETSTRUCT(type))->typtype != TYPTYPE_PSEUDO;
  ReleaseSysCache(type);
  return usable ? remote_type : TEXTOID;
}

void prepare_own_result(Fanout* fanout, Channel* channel) {
  MemoryContext previous = MemoryContextSwitchTo(fanout->caller_context);
  prepare_json_keys(channel);  // the unique column names
  int n = channel->column_count;
  channel->own_desc = CreateTemplateTupleDesc(n);
  channel->own_input_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * Max(n, 1)));
  channel->own_input_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    Oid type = local_column_type(channel->column_types[i]);
    TupleDescInitEntry(channel->own_desc, i + 1, channel->json_keys[i].val.string.val, type, -1, 0);
    Oid input_function;
    getTypeInputInfo(type, &input_function, &channel->own_input_ioparams[i]);
    fmgr_info(input_function, &channel->own_input_functions[i]);
  }
  channel->own_rows = tuplestore_begin_heap(false, false, work_mem);
  MemoryContextSwitchTo(previous);
}

void accept_columns(Fanout* fanout, Channel* channel) {
  const FanoutRequest* request = fanout->request;
  if (request->shape == RowShape::kJson) {
    prepare_json_keys(channel);
  } else if (request->shape == RowShape::kPerTarget) {
    prepare_own_result(fanout, channel);
  } else if (channel->column_count != request->result_desc->natts - 1) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("connection \"%s\" returned %d columns, but the column definition list has %d after "
                           "source_db",
                           channel->target->name, channel->column_count, request->result_desc->natts - 1),
                    errdetail("The remote result's columns: %s.", describe_remote_columns(channel))));
  }
  channel->columns_known = true;
}

void conversion_error_context(void* arg) {
  Fanout* fanout = static_cast<Fanout*>(arg);
  Channel* channel = fanout->converting_channel;
  if (channel == nullptr) return;
  int column = fanout->converting_column;
  errcontext("column \"%s\" (remote type %s) of connection \"%s\"; the remote result's columns: %s",
             channel->column_names[column],
             channel->column_types[column] < FirstGenbkiObjectId ? format_type_be(channel->column_types[column])
                                                                 : "unknown",
             channel->target->name, describe_remote_columns(channel));
}

JsonbValue json_value(JsonKind kind, const char* text) {
  JsonbValue value;
  if (text == nullptr) {
    value.type = jbvNull;
    return value;
  }
  switch (kind) {
    case JsonKind::kBoolean:
      value.type = jbvBool;
      value.val.boolean = text[0] == 't';
      return value;
    case JsonKind::kNumber: {
      Numeric number = DatumGetNumeric(
          DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
      if (!numeric_is_nan(number) && !numeric_is_inf(number)) {
        value.type = jbvNumeric;
        value.val.numeric = number;
        return value;
      }
      break;  // JSON has no NaN or Infinity: keep the text
    }
    case JsonKind::kEmbeddedJson: {
      Jsonb* embedded = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
      value.type = jbvBinary;
      value.val.binary.data = &embedded->root;
      value.val.binary.len = VARSIZE(embedded) - VARHDRSZ;
      return value;
    }
    case JsonKind::kString:
      break;
  }
  value.type = jbvString;
  value.val.string.val = const_cast<char*>(text);
  value.val.string.len = strlen(text);
  return value;
}

// While a channel's values are converted, an error names the column, the connection and its columns.
void begin_conversion(Fanout* fanout, Channel* channel, ErrorContextCallback* callback) {
  callback->callback = conversion_error_context;
  callback->arg = fanout;
  callback->previous = error_context_stack;
  error_context_stack = callback;
  fanout->converting_channel = channel;
}

void end_conversion(Fanout* fanout, ErrorContextCallback* callback) {
  error_context_stack = callback->previous;
  fanout->converting_channel = nullptr;
}

// kPerTarget: one row into the target's own store, in the row context.
void store_own_row(Fanout* fanout, Channel* channel, char** values) {
  int n = channel->column_count;
  Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * Max(n, 1)));
  ErrorContextCallback callback;
  begin_conversion(fanout, channel, &callback);
  for (int i = 0; i < n; i++) {
    fanout->converting_column = i;
    datums[i] = InputFunctionCall(&channel->own_input_functions[i], values[i], channel->own_input_ioparams[i], -1);
    nulls[i] = values[i] == nullptr;
  }
  end_conversion(fanout, &callback);
  tuplestore_putvalues(channel->own_rows, channel->own_desc, datums, nulls);
}

// values[i] is a NUL-terminated text value, or nullptr for NULL.
void store_row(Fanout* fanout, Channel* channel, char** values) {
  const FanoutRequest* request = fanout->request;
  MemoryContext caller_context = MemoryContextSwitchTo(fanout->row_context);
  if (request->shape == RowShape::kPerTarget) {
    store_own_row(fanout, channel, values);
    MemoryContextSwitchTo(caller_context);
    MemoryContextReset(fanout->row_context);
    channel->rows++;
    return;
  }
  int natts = request->result_desc->natts;
  Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
  datums[0] = CStringGetTextDatum(channel->target->name);
  nulls[0] = false;

  ErrorContextCallback callback;
  begin_conversion(fanout, channel, &callback);

  if (request->shape == RowShape::kJson) {
    JsonbParseState* state = nullptr;
    pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
    for (int i = 0; i < channel->column_count; i++) {
      fanout->converting_column = i;
      pushJsonbValue(&state, WJB_KEY, &channel->json_keys[i]);
      JsonbValue value = json_value(channel->json_kinds[i], values[i]);
      pushJsonbValue(&state, WJB_VALUE, &value);
    }
    JsonbValue* object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
    datums[1] = JsonbPGetDatum(JsonbValueToJsonb(object));
    nulls[1] = false;
  } else {
    for (int i = 0; i < channel->column_count; i++) {
      fanout->converting_column = i;
      // Called for NULLs too, so that a domain's NOT NULL is checked.
      datums[i + 1] = InputFunctionCall(&fanout->input_functions[i + 1], values[i], fanout->input_ioparams[i + 1],
                                        fanout->input_typmods[i + 1]);
      nulls[i + 1] = values[i] == nullptr;
    }
  }
  end_conversion(fanout, &callback);

  MemoryContextSwitchTo(caller_context);
  Tuplestorestate* store = channel->index == fanout->head ? request->result : channel->held_rows;
  if (store == nullptr) {
    channel->held_rows = tuplestore_begin_heap(false, false, work_mem);
    store = channel->held_rows;
  }
  tuplestore_putvalues(store, request->result_desc, datums, nulls);
  MemoryContextReset(fanout->row_context);
  channel->rows++;
}

// Moves the finished channels' held rows into the result, in connection order.
void advance_head(Fanout* fanout) {
  while (fanout->head < fanout->request->target_count &&
         fanout->channels[fanout->head].state == ChannelState::kFinished) {
    fanout->head++;
    if (fanout->head >= fanout->request->target_count) break;
    Channel* next = &fanout->channels[fanout->head];
    if (next->held_rows != nullptr) {
      while (tuplestore_gettupleslot(next->held_rows, true, false, fanout->move_slot))
        tuplestore_puttupleslot(fanout->request->result, fanout->move_slot);
      tuplestore_end(next->held_rows);
      next->held_rows = nullptr;
    }
  }
}

void finish_channel(Fanout* fanout, Channel* channel) {
  if (fanout->request->outcomes != nullptr) {
    TargetOutcome* outcome = &fanout->request->outcomes[channel->index];
    outcome->rows = channel->rows;
    outcome->elapsed_ms = (GetCurrentTimestamp() - channel->started_at) / 1000.0;
    outcome->columns = channel->own_desc;
    outcome->rows_store = channel->own_rows;
  }
  channel->state = ChannelState::kFinished;
  channel->queue = nullptr;
  fanout->active--;
  advance_head(fanout);
}

// A failed target: ERROR ends the call; with multidb.on_error = warn, one WARNING and the call goes on.
void target_failed(Fanout* fanout, Channel* channel, ErrorData* error, bool refused) {
  if (fanout->request->outcomes != nullptr) {
    TargetOutcome* outcome = &fanout->request->outcomes[channel->index];
    outcome->failed = true;
    outcome->refused = refused;
    outcome->sqlstate = error->sqlerrcode;
    outcome->message = pstrdup(error->message ? error->message : "unknown error");
    int error_class = ERRCODE_TO_CATEGORY(error->sqlerrcode);
    outcome->remote_sql_error = !refused && error_class != ERRCODE_CONNECTION_EXCEPTION &&
                                error->sqlerrcode != ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED &&
                                error_class != ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION &&
                                error->sqlerrcode != ERRCODE_QUERY_CANCELED && error->sqlerrcode != ERRCODE_ADMIN_SHUTDOWN;
    finish_channel(fanout, channel);
    return;
  }
  bool warn = on_error == static_cast<int>(OnError::kWarn) && !refused;
  error->elevel = warn ? WARNING : ERROR;
  if (warn && channel->rows > 0)
    error->detail = psprintf("%s%s%ld rows from connection \"%s\" were returned before it failed.",
                             error->detail ? error->detail : "", error->detail ? "\n" : "",
                             static_cast<long>(channel->rows), channel->target->name);
  ThrowErrorData(error);
  finish_channel(fanout, channel);
}

// ---- worker channels ----------------------------------------------------------------------------------

// A result has at most MaxTupleAttributeNumber columns on any server; more is no result of Postgres's.
void check_column_count(const Channel* channel, int count) {
  if (count < 0 || count > MaxTupleAttributeNumber)
    ereport(ERROR, (errcode(ERRCODE_TOO_MANY_COLUMNS),
                    errmsg("connection \"%s\": the result has %d columns, more than the %d a row can hold",
                           channel->target->name, count, MaxTupleAttributeNumber)));
}

void read_columns_message(Channel* channel, StringInfo message) {
  int16 count;
  pq_copymsgbytes(message, reinterpret_cast<char*>(&count), sizeof(count));
  check_column_count(channel, count);
  channel->column_count = count;
  channel->column_types = static_cast<Oid*>(palloc(sizeof(Oid) * Max(count, 1)));
  channel->column_names = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  for (int i = 0; i < count; i++) {
    uint32 type;
    pq_copymsgbytes(message, reinterpret_cast<char*>(&type), sizeof(type));
    channel->column_types[i] = type;
    channel->column_names[i] = pstrdup(pq_getmsgstring(message));
  }
}

void read_rows_message(Fanout* fanout, Channel* channel, StringInfo message) {
  int16 columns;
  int32 rows;
  pq_copymsgbytes(message, reinterpret_cast<char*>(&columns), sizeof(columns));
  pq_copymsgbytes(message, reinterpret_cast<char*>(&rows), sizeof(rows));
  if (columns != channel->column_count)
    elog(ERROR, "multidb worker sent rows of %d columns, expected %d", columns, channel->column_count);
  char** values = static_cast<char**>(palloc(sizeof(char*) * Max(columns, 1)));
  for (int row = 0; row < rows; row++) {
    for (int i = 0; i < columns; i++) {
      int32 length;
      pq_copymsgbytes(message, reinterpret_cast<char*>(&length), sizeof(length));
      // Points into the queue's message, valid until the next receive; the worker sent the NUL too.
      values[i] = length < 0 ? nullptr : const_cast<char*>(pq_getmsgbytes(message, length + 1));
    }
    store_row(fanout, channel, values);
  }
  pfree(values);
}

void handle_worker_message(Fanout* fanout, Channel* channel, char* data, Size size) {
  StringInfoData message;
  message.data = data;
  message.len = size;
  message.maxlen = size;
  message.cursor = 0;
  char kind = pq_getmsgbyte(&message);
  switch (kind) {
    case kColumnsMessage:
      read_columns_message(channel, &message);
      accept_columns(fanout, channel);
      break;
    case kRowMessage:
      read_rows_message(fanout, channel, &message);
      break;
    case kCompleteMessage:
      finish_channel(fanout, channel);
      break;
    case kErrorMessage:
    case kNoticeMessage: {
      ErrorData error;
      pq_parse_errornotice(&message, &error);
      if (kind == kNoticeMessage) {
        ThrowErrorData(&error);
        break;
      }
      target_failed(fanout, channel, &error, channel->refused);
      break;
    }
    case kRefusedMessage:
      channel->refused = true;
      break;
    default:
      elog(ERROR, "multidb worker for connection \"%s\" sent an unknown message '%c'", channel->target->name, kind);
  }
}

bool pump_worker(Fanout* fanout, Channel* channel) {
  bool progressed = false;
  for (int i = 0; i < kMessagesPerTurn && channel->state == ChannelState::kWorker; i++) {
    Size size;
    void* data;
    shm_mq_result result = shm_mq_receive(channel->queue, &size, &data, true);
    if (result == SHM_MQ_WOULD_BLOCK) break;
    progressed = true;
    if (result == SHM_MQ_DETACHED) {
      ErrorData error;
      memset(&error, 0, sizeof(error));
      error.sqlerrcode = ERRCODE_CONNECTION_FAILURE;
      error.message = const_cast<char*>(
          remote_message(channel->target->name, "the background worker stopped before it answered"));
      error.hint = pstrdup("The server log may say why (a crash, or a worker terminated by an administrator).");
      target_failed(fanout, channel, &error, false);
      break;
    }
    handle_worker_message(fanout, channel, static_cast<char*>(data), size);
  }
  return progressed;
}

// ---- local channels (no worker slot was free) ----------------------------------------------------------

void store_local_batch(Fanout* fanout, Channel* channel, const PGresult* result) {
  if (!channel->columns_known) {
    int n = PQnfields(result);
    check_column_count(channel, n);
    channel->column_count = n;
    channel->column_types = static_cast<Oid*>(palloc(sizeof(Oid) * Max(n, 1)));
    channel->column_names = static_cast<const char**>(palloc(sizeof(char*) * Max(n, 1)));
    for (int c = 0; c < n; c++) {
      channel->column_types[c] = PQftype(result, c);
      channel->column_names[c] = pstrdup(PQfname(result, c));
    }
    accept_columns(fanout, channel);
  }
  char** values = static_cast<char**>(palloc(sizeof(char*) * Max(channel->column_count, 1)));
  int rows = PQntuples(result);
  for (int row = 0; row < rows; row++) {
    for (int c = 0; c < channel->column_count; c++)
      values[c] = PQgetisnull(result, row, c) ? nullptr : PQgetvalue(result, row, c);
    store_row(fanout, channel, values);
    CHECK_FOR_INTERRUPTS();
  }
  pfree(values);
}

bool pump_local(Fanout* fanout, Channel* channel) {
  bool progressed = false;
  if (!channel->local_ready) return false;
  for (int i = 0; i < kMessagesPerTurn && channel->state == ChannelState::kLocal; i++) {
    PGresult* result;
    RemoteEvent event = remote_advance(&channel->local, &result);
    switch (event) {
      case RemoteEvent::kWantRead:
      case RemoteEvent::kWantWrite:
        channel->local_wait_events = event == RemoteEvent::kWantRead ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
        channel->local_ready = false;
        return progressed;
      case RemoteEvent::kRows: {
        progressed = true;
        // The PGresult is malloc'd: free it on every way out of here.
        PG_TRY();
        {
          store_local_batch(fanout, channel, result);
        }
        PG_FINALLY();
        {
          PQclear(result);
        }
        PG_END_TRY();
        break;
      }
      case RemoteEvent::kDone:
        finish_channel(fanout, channel);
        return true;
      case RemoteEvent::kFailed: {
        const RemoteFailure* failure = &channel->local.failure;
        ErrorData error;
        memset(&error, 0, sizeof(error));
        error.sqlerrcode = failure->sqlstate;
        error.message = const_cast<char*>(failure->message);
        error.detail = const_cast<char*>(failure->detail);
        error.hint = const_cast<char*>(failure->hint);
        error.context = const_cast<char*>(failure->context);
        target_failed(fanout, channel, &error, failure->refused);
        return true;
      }
    }
  }
  return progressed;
}

// ---- waiting ----------------------------------------------------------------------------------------------

bool waits_on_socket(const Channel* channel) {
  return channel->state == ChannelState::kLocal && !channel->local_ready &&
         remote_socket(&channel->local) != PGINVALID_SOCKET;
}

// True when the sockets to wait on are not the ones the set holds. While libpq connects, a socket may be
// closed and another opened under the same number (the next host or address): the set cannot tell them
// apart, so it is rebuilt for every wait of a connecting channel.
bool wait_set_outdated(const Fanout* fanout) {
  if (fanout->wait_set == nullptr) return true;
  for (int i = 0; i < fanout->channel_count; i++) {
    const Channel* channel = &fanout->channels[i];
    if (channel->state == ChannelState::kLocal && channel->local.phase == RemotePhase::kConnecting) return true;
    pgsocket wanted = waits_on_socket(channel) ? remote_socket(&channel->local) : PGINVALID_SOCKET;
    if (wanted != channel->registered_socket) return true;
  }
  return false;
}

void free_wait_set(Fanout* fanout) {
  if (fanout->wait_set != nullptr) FreeWaitEventSet(fanout->wait_set);
  fanout->wait_set = nullptr;
  for (int i = 0; i < fanout->channel_count; i++) fanout->channels[i].registered_socket = PGINVALID_SOCKET;
}

void build_wait_set(Fanout* fanout) {
  free_wait_set(fanout);
  int sockets = 0;
  for (int i = 0; i < fanout->channel_count; i++) sockets += waits_on_socket(&fanout->channels[i]) ? 1 : 0;
  fanout->wait_set = CreateWaitEventSet(fanout->caller_context, sockets + 2);
  AddWaitEventToSet(fanout->wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
  AddWaitEventToSet(fanout->wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
  for (int i = 0; i < fanout->channel_count; i++) {
    Channel* channel = &fanout->channels[i];
    if (!waits_on_socket(channel)) continue;
    channel->registered_socket = remote_socket(&channel->local);
    channel->registered_events = channel->local_wait_events;
    channel->registered_position =
        AddWaitEventToSet(fanout->wait_set, channel->local_wait_events, channel->registered_socket, nullptr, channel);
  }
}

void wait_for_progress(Fanout* fanout) {
  int locals = 0;
  long timeout = -1;
  for (int i = 0; i < fanout->request->target_count; i++) {
    Channel* channel = &fanout->channels[i];
    if (channel->state != ChannelState::kLocal || channel->local_ready) continue;
    locals++;
    long channel_timeout = remote_timeout_ms(&channel->local);
    if (channel_timeout >= 0 && (timeout < 0 || channel_timeout < timeout)) timeout = channel_timeout;
  }
  if (locals == 0) {
    WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    return;
  }

  if (wait_set_outdated(fanout)) {
    build_wait_set(fanout);
  } else {
    for (int i = 0; i < fanout->channel_count; i++) {
      Channel* channel = &fanout->channels[i];
      if (channel->registered_socket == PGINVALID_SOCKET || channel->registered_events == channel->local_wait_events)
        continue;
      ModifyWaitEvent(fanout->wait_set, channel->registered_position, channel->local_wait_events, nullptr);
      channel->registered_events = channel->local_wait_events;
    }
  }
  WaitEvent events[64];
  int fired = WaitEventSetWait(fanout->wait_set, timeout, events, lengthof(events), PG_WAIT_EXTENSION);
  for (int i = 0; i < fired; i++) {
    if (events[i].events & WL_LATCH_SET) ResetLatch(MyLatch);
    if (events[i].user_data != nullptr) static_cast<Channel*>(events[i].user_data)->local_ready = true;
  }
  if (fired == 0) {
    // The timeout: let every connecting target look at its deadline.
    for (int i = 0; i < fanout->request->target_count; i++)
      if (fanout->channels[i].state == ChannelState::kLocal) fanout->channels[i].local_ready = true;
  }
}

// Local connections are closed on every way out, including errors and cancels.
void abandon_local_channels(void* arg) {
  Fanout* fanout = static_cast<Fanout*>(arg);
  free_wait_set(fanout);  // its epoll descriptor too
  for (int i = 0; i < fanout->channel_count; i++) remote_abandon(&fanout->channels[i].local);
}

void prepare_typed_input(Fanout* fanout) {
  TupleDesc desc = fanout->request->result_desc;
  fanout->input_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * desc->natts));
  fanout->input_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * desc->natts));
  fanout->input_typmods = static_cast<int32*>(palloc0(sizeof(int32) * desc->natts));
  for (int i = 1; i < desc->natts; i++) {
    Form_pg_attribute attribute = TupleDescAttr(desc, i);
    Oid input_function;
    getTypeInputInfo(attribute->atttypid, &input_function, &fanout->input_ioparams[i]);
    fmgr_info(input_function, &fanout->input_functions[i]);
    fanout->input_typmods[i] = attribute->atttypmod;
  }
}

}  // namespace

void run_fanout(const FanoutRequest* request) {
  Fanout* fanout = static_cast<Fanout*>(palloc0(sizeof(Fanout)));
  fanout->request = request;
  fanout->channels = static_cast<Channel*>(palloc0(sizeof(Channel) * request->target_count));
  fanout->channel_count = request->target_count;
  for (int i = 0; i < request->target_count; i++) {
    fanout->channels[i].target = &request->targets[i];
    fanout->channels[i].index = i;
    fanout->channels[i].state = ChannelState::kWaiting;
    fanout->channels[i].registered_socket = PGINVALID_SOCKET;
  }
  fanout->row_context = AllocSetContextCreate(CurrentMemoryContext, "multidb row", ALLOCSET_DEFAULT_SIZES);
  fanout->caller_context = CurrentMemoryContext;
  Assert(request->shape != RowShape::kPerTarget || request->outcomes != nullptr);
  if (request->shape != RowShape::kPerTarget)
    fanout->move_slot = MakeSingleTupleTableSlot(request->result_desc, &TTSOpsMinimalTuple);
  if (request->shape == RowShape::kTyped) prepare_typed_input(fanout);

  MemoryContextCallback* cleanup = static_cast<MemoryContextCallback*>(palloc0(sizeof(MemoryContextCallback)));
  cleanup->func = abandon_local_channels;
  cleanup->arg = fanout;
  MemoryContextRegisterResetCallback(CurrentMemoryContext, cleanup);

  judge_targets(fanout);
  create_shared_call(fanout);
  start_more(fanout);
  while (fanout->head < request->target_count) {
    bool progressed = false;
    for (int i = fanout->head; i < request->target_count; i++) {
      Channel* channel = &fanout->channels[i];
      if (channel->state == ChannelState::kWorker) progressed |= pump_worker(fanout, channel);
      else if (channel->state == ChannelState::kLocal) progressed |= pump_local(fanout, channel);
    }
    start_more(fanout);
    CHECK_FOR_INTERRUPTS();
    if (fanout->head >= request->target_count) break;
    if (!progressed) wait_for_progress(fanout);
  }

  abandon_local_channels(fanout);
  if (fanout->move_slot != nullptr) ExecDropSingleTupleTableSlot(fanout->move_slot);
  dsm_detach(fanout->segment);  // terminates any worker still exiting
}

const char* remote_check_sql_for(const char* sql) {
  GuardVerdict verdict = require_read_only(sql, "any connection");
  return remote_check_sql(&verdict.names);
}

struct JsonRowLayout {
  int column_count;
  JsonbValue* keys;
  JsonKind* kinds;
};

JsonRowLayout* json_row_layout(TupleDesc columns) {
  JsonRowLayout* layout = static_cast<JsonRowLayout*>(palloc0(sizeof(JsonRowLayout)));
  int n = columns->natts;
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(n, 1)));
  Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    names[i] = NameStr(TupleDescAttr(columns, i)->attname);
    types[i] = TupleDescAttr(columns, i)->atttypid;
  }
  layout->column_count = n;
  make_json_keys(n, names, types, &layout->keys, &layout->kinds);
  return layout;
}

Datum json_row(const JsonRowLayout* layout, char* const* values) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int i = 0; i < layout->column_count; i++) {
    pushJsonbValue(&state, WJB_KEY, &layout->keys[i]);
    JsonbValue value = json_value(layout->kinds[i], values[i]);
    pushJsonbValue(&state, WJB_VALUE, &value);
  }
  JsonbValue* object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
  return JsonbPGetDatum(JsonbValueToJsonb(object));
}

}  // namespace multidb
