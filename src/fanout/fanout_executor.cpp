// The fan-out executor: run_fanout() runs one statement (or one per target) on many remote databases at
// once and puts their rows into the caller's tuplestore, in connection order; resolve_targets() gives a call its
// targets, the kept connections caught up with the catalog first.
//
// The structs (fanout_internal.hpp): a Fanout per call, a Channel per target, the WorkerSet of the call's
// background workers. The loop of run_fanout():
//   judge every target's exact text with the guard (its names go to that remote's own checks);
//   lay out the call's shared state (shared_call.cpp: a DSM segment when workers may run, else the caller's own
//     memory); with multidb.keep_connections, take the kept connections of
//     this call's targets (connection_pool.cpp); start targets — each needs a slot of its remote cluster
//     (cluster_slots.cpp, multidb.max_connections_per_host) or waits for one — a background worker each
//     while multidb.max_workers allows and a worker slot is free, else the same libpq state machine in this
//     backend;
//   until every channel is finished:
//     pump each channel: a worker's queue (pump_worker: columns, rows, completion, refusal, errors) or an
//       in-backend RemoteSession (pump_local); values, text or binary, become rows in row_sink.cpp;
//     start more targets as others finish;
//     CHECK_FOR_INTERRUPTS(), and when nothing moved, wait on the latch and the in-backend sockets
//       (fanout_wait.cpp);
//   a finished channel's held rows move into the result once every channel before it is done.
// A failed target is an ERROR, or, with outcomes collected or multidb.on_error = warn, recorded while the call
// goes on. On every way out a memory-context callback closes the in-backend connections and frees the wait
// set, and detaching the segment terminates the workers. With multidb.keep_connections the targets run in this
// backend and a connection whose call ended cleanly goes back to connection_pool.cpp instead of being closed.
#include "fanout/fanout_executor.hpp"

#include "core/cluster_address.hpp"
#include "core/fetch_batch.hpp"
#include "fanout/cluster_slots.hpp"
#include "fanout/connection_pool.hpp"
#include "fanout/fanout_internal.hpp"
#include "fanout/progress.hpp"
#include "fanout/mq_protocol.hpp"
#include "fanout/remote_cancel.hpp"
#include "foundation/boundary.hpp"
#include "foundation/settings.hpp"
#include "foundation/sql_guard.hpp"
#include "foundation/worker_shortage.hpp"

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
#include "storage/fd.h"
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

// ---- what is sent: judged here -------------------------------------------------------------------------

// What the remote is asked about the statement's names, in both forms (core/remote_checks.hpp): inline, and as the
// gated checks' parameters: the names as the statement wrote them, and the allowlist's entries by signature, for the
// remote to resolve.
struct CheckSql {
  const char* inline_sql;
  const char* parameters;
};

CheckSql remote_check_sql(const char* sql, const CalledNames* names) {
  CalledNames written = names_as_written(sql, names);
  const VolatileAllowlist& allowlist = current_volatile_allowlist();
  char* inline_sql = nullptr;
  char* parameters = nullptr;
  CppError error = cpp_call([&] {
    StatementNames wanted;
    for (int i = 0; i < list_length(written.functions); i++)
      wanted.calls.push_back(CalledFunction{static_cast<const char*>(list_nth(written.functions, i)),
                                            list_nth_int(written.function_arguments, i)});
    ListCell* cell;
    foreach (cell, written.attribute_calls) wanted.calls.push_back(CalledFunction{static_cast<const char*>(lfirst(cell)), 1});
    RemoteCheckSql check = build_remote_check_sql(wanted, allowlist.signature_entries());
    inline_sql = malloc_copy(check.inline_sql);
    parameters = malloc_copy(check.parameters);
  });
  CheckSql check{take(inline_sql), take(parameters)};
  raise_cpp_error(error, "building the remote check");
  return check;
}

// The guard's judgement of exactly what each remote will receive.
void judge_targets(Fanout* fanout) {
  const FanoutRequest* request = fanout->request;
  if (request->sqls == nullptr) {
    GuardVerdict verdict = require_read_only(request->sql, describe_targets(request->targets, request->target_count));
    CheckSql check = remote_check_sql(request->sql, &verdict.names);
    for (int i = 0; i < fanout->channel_count; i++) {
      fanout->channels[i].check_sql = check.inline_sql;
      fanout->channels[i].check_parameters = check.parameters;
    }
    return;
  }
  for (int i = 0; i < fanout->channel_count; i++) {
    GuardVerdict verdict = require_read_only(request->sqls[i], describe_targets(&request->targets[i], 1));
    CheckSql check = remote_check_sql(request->sqls[i], &verdict.names);
    fanout->channels[i].check_sql = check.inline_sql;
    fanout->channels[i].check_parameters = check.parameters;
  }
}

// The guard's refusal as a refused event (naming the database when each target has its statement), then the
// ERROR as it was.
void judge_targets_reporting(Fanout* fanout) {
  MemoryContext caller_context = CurrentMemoryContext;
  PG_TRY();
  {
    judge_targets(fanout);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    ErrorData* error = CopyErrorData();
    if (error->elevel != ERROR || error->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE) PG_RE_THROW();
    FlushErrorState();
    const char* database = fanout->request->target_count == 1 ? fanout->request->targets[0].name : nullptr;
    progress_failed(database, error->sqlerrcode, error->message, true);
    ReThrowError(error);
  }
  PG_END_TRY();
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
  if (!registered) {
    worker_shortage_note();  // kept history writers give their slots up for the next target's worker
    return false;
  }

  fanout->workers->handles[i] = handle;
  channel->worker = handle;
  channel->queue = shm_mq_attach(mq, fanout->segment, handle);
  channel->state = ChannelState::kWorker;
  return true;
}

// descriptor: the caller took the connection's descriptor count (take_descriptor), which the session takes over.
void start_local(Fanout* fanout, Channel* channel, bool wanted_worker, bool descriptor) {
  if (wanted_worker)
    ereport(DEBUG1, (errmsg_internal("multidb: no background worker slot free for connection \"%s\"; "
                                     "running it in this backend",
                                     channel->target->name)));
  const RemoteTarget* target = channel->target;
  SharedCall* shared = fanout->shared;
  // A connection that others wait for will make way when this call ends (connection_pool.hpp): not worth preparing
  // the checks on, which pays for itself only over calls.
  RemoteStatement statement{shared_string(shared, shared->setup_sql_offset), channel->check_sql,
                            target_sql(fanout->request, channel->index),
                            shared_string(shared, shared->allowed_volatile_offset), shared->catalog_search_path,
                            shared->describe_only, channel->check_parameters,
                            shared_string(shared, shared->timezone_offset), !cluster_slot_wanted(channel->cluster)};
  remote_init(&channel->local, target->name, target->keywords, target->values, &statement, target->require_password,
              RemoteRisks{target->allow_privileged_role, target->allow_implicit_volatile}, target->connect_timeout_s,
              shared->statement_timeout_ms, fetch_size);
  channel->local.keep_connection = keep_connections;
  // The batches of all its connections together grow to kAllBatchesBytes at most, as its workers' queues share
  // kAllQueuesBudget.
  channel->local.batch_bytes = batch_bytes_for(fanout->channel_count);
  if (descriptor) remote_hold_descriptor(&channel->local);
  if (channel->warm != nullptr) {
    remote_adopt(&channel->local, channel->warm, channel->warm_history);
    channel->warm = nullptr;
  }
  channel->local_ready = true;
  channel->state = ChannelState::kLocal;
}

// The remote cluster a target connects to, named by the address libpq will reach (core/cluster_address.hpp), so
// that servers spelling one cluster differently share its bound.
const char* cluster_of(const RemoteTarget* target) {
  const char *host = "", *hostaddr = "", *port = "";
  for (int i = 0; target->keywords[i] != nullptr; i++) {
    if (strcmp(target->keywords[i], "host") == 0) host = target->values[i];
    else if (strcmp(target->keywords[i], "hostaddr") == 0) hostaddr = target->values[i];
    else if (strcmp(target->keywords[i], "port") == 0) port = target->values[i];
  }
  static ClusterAddressBook* address_book = nullptr;  // this backend's, never freed: its names outlive calls
  char* name = nullptr;
  CppError error = cpp_call([&] {
    if (address_book == nullptr) address_book = new ClusterAddressBook();
    name = malloc_copy(address_book->cluster_of(ClusterSpelling{host, hostaddr, port}, libpq_defaults(),
                                                ClusterAddressBook::Clock::now()));
  });
  raise_cpp_error(error, "naming a connection's remote cluster");
  return take(name);
}

// A slot of the cluster for a new connection (cluster_slots.hpp); this backend's own idle connections to it
// give way first.
bool take_slot(const char* cluster) {
  if (cluster_slot_take(cluster)) return true;
  while (pool_close_idle_of(cluster))
    if (cluster_slot_take(cluster)) return true;
  return false;
}

// Everything the channel holds of a cluster, let go: its connection closed (if it still was open), its slot
// given back, its wait ended. Safe on every way out, more than once.
void release_claims(Channel* channel) {
  if (channel->warm != nullptr) {
    close_kept_connection(channel->warm);
    channel->warm = nullptr;
  }
  if (channel->waits_for_slot) {
    cluster_wait_end(channel->cluster);
    channel->waits_for_slot = false;
  }
  if (!channel->holds_slot) return;
  remote_abandon(&channel->local);
  cluster_slot_give_back(channel->cluster);
  channel->holds_slot = false;
}

// A descriptor for one more in-backend connection, counted against max_files_per_process as postgres_fdw counts its
// own (AcquireExternalFD): this backend's idle kept connections give theirs up first. True: it is now the target's,
// which its session takes over; false: none is left.
// Two more stay free: the call's wait set needs one for its epoll descriptor (CreateWaitEventSet takes it from
// the same count, and its ERROR would end the whole call), and Postgres may want another.
constexpr int kDescriptorsLeftFree = 2;

bool take_descriptor() {
  for (;;) {
    int taken = 0;
    while (taken <= kDescriptorsLeftFree && AcquireExternalFD()) taken++;
    bool enough = taken > kDescriptorsLeftFree;
    for (int i = enough ? 1 : 0; i < taken; i++) ReleaseExternalFD();  // enough: the target keeps one
    if (enough) return true;
    if (!pool_close_idle_of(nullptr)) return false;
  }
}

// At the call's start every target with a kept connection for its server and user takes it (and the slot it
// holds): those start first, and no target of this call closes them to make room.
void take_warm_connections(Fanout* fanout) {
  if (!keep_connections) return;
  pool_catch_up_with_catalog();  // a server or mapping changed since the targets were resolved (an ask's LLM call)
  for (int i = 0; i < fanout->channel_count; i++) {
    Channel* channel = &fanout->channels[i];
    channel->warm = pool_take(channel->target->server_oid, GetUserId(), &channel->warm_history);
    if (channel->warm != nullptr) channel->holds_slot = true;
  }
}

// Starts targets in connection order while multidb.max_workers allows: a target needs a slot of its cluster
// (multidb.max_connections_per_host), and one that gets none waits while those after it may start; rows still
// reach the result in connection order. multidb.max_workers = 0 runs every target inside this backend, all at
// once. With multidb.keep_connections every target runs in this backend too (only its connections outlive the
// call), at most max_workers at once. True if a target started.
//
// A cluster that refused a slot in this pass is not asked again for the targets after it in the same pass: with a
// thousand targets waiting on a few clusters, one look per cluster and pass, not one per waiting target (each
// look takes the slot table's lock and searches this backend's idle connections).
bool start_more(Fanout* fanout) {
  bool started = false;
  bool use_workers = call_uses_workers();
  bool capped = max_workers > 0;
  constexpr int kRefusedRemembered = 16;  // more clusters refused in one pass are asked again, target by target
  const char* refused[kRefusedRemembered];
  int refused_count = 0;
  fanout->waiting_for_slot = false;
  for (int i = fanout->head; i < fanout->channel_count && (!capped || fanout->active < max_workers); i++) {
    Channel* channel = &fanout->channels[i];
    if (channel->state != ChannelState::kWaiting) continue;
    // In this backend (multidb.max_workers = 0 runs a thousand targets at once): as many as it has descriptors
    // for; the others wait for a running one to end, as for a slot. With none running, the target starts anyway
    // and fails naming the reason.
    bool descriptor = false;
    if (!use_workers && channel->warm == nullptr) {
      descriptor = take_descriptor();
      if (!descriptor && fanout->active > 0) break;
    }
    if (!channel->holds_slot) {
      bool known_refused = false;
      for (int r = 0; r < refused_count && !known_refused; r++) known_refused = strcmp(refused[r], channel->cluster) == 0;
      if (known_refused || !take_slot(channel->cluster)) {
        if (!known_refused && refused_count < kRefusedRemembered) refused[refused_count++] = channel->cluster;
        if (descriptor) ReleaseExternalFD();
        if (!channel->waits_for_slot) cluster_wait_begin(channel->cluster);
        channel->waits_for_slot = true;
        fanout->waiting_for_slot = true;
        continue;
      }
      channel->holds_slot = true;
    }
    if (channel->waits_for_slot) {
      cluster_wait_end(channel->cluster);
      channel->waits_for_slot = false;
    }
    channel->started_at = GetCurrentTimestamp();
    if (fanout->request->report_progress && progress_on()) {
      channel->progress_at = channel->started_at;
      progress_started(channel->target->name);
    }
    if (!use_workers || !start_worker(fanout, channel)) start_local(fanout, channel, use_workers, descriptor);
    fanout->active++;
    started = true;
  }
  if (fanout->waiting_for_slot) cluster_wake_idle_holders();
  return started;
}

// ---- targets that end ---------------------------------------------------------------------------------------

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

// A rows progress event every kProgressRows rows or kProgressIntervalMs, whichever first; checked per batch.
void report_rows(Fanout* fanout, Channel* channel) {
  if (!fanout->request->report_progress || !progress_on() || channel->rows == channel->progress_rows) return;
  TimestampTz now = GetCurrentTimestamp();
  if (channel->rows - channel->progress_rows < kProgressRows &&
      !TimestampDifferenceExceeds(channel->progress_at, now, kProgressIntervalMs))
    return;
  channel->progress_rows = channel->rows;
  channel->progress_at = now;
  progress_rows(channel->target->name, channel->rows, (now - channel->started_at) / 1000.0);
}

void finish_channel(Fanout* fanout, Channel* channel) {
  fanout->finished++;
  if (!channel->failed && fanout->request->report_progress && progress_on())
    progress_done(channel->target->name, channel->rows, (GetCurrentTimestamp() - channel->started_at) / 1000.0,
                  fanout->finished, fanout->channel_count, channel->columns_known ? channel->column_count : 0,
                  channel->columns_known ? channel->column_names : nullptr);
  if (fanout->request->outcomes != nullptr) {
    TargetOutcome* outcome = &fanout->request->outcomes[channel->index];
    outcome->rows = channel->rows;
    outcome->elapsed_ms = (GetCurrentTimestamp() - channel->started_at) / 1000.0;
    outcome->column_count = channel->columns_known ? channel->column_count : 0;
    outcome->column_names = channel->column_names;
    outcome->column_types = channel->column_types;
    outcome->columns = channel->own_desc;
    outcome->rows_store = channel->own_rows;
  }
  channel->state = ChannelState::kFinished;
  channel->queue = nullptr;
  fanout->active--;
  release_claims(channel);
  advance_head(fanout);
}

// A failed target: ERROR ends the call; with multidb.on_error = warn, one WARNING and the call goes on.
void target_failed(Fanout* fanout, Channel* channel, ErrorData* error, bool refused) {
  channel->failed = true;
  if (fanout->request->report_progress && progress_on())
    progress_failed(channel->target->name, error->sqlerrcode, error->message ? error->message : "unknown error",
                    refused, fanout->finished + 1, fanout->channel_count);
  if (fanout->request->outcomes != nullptr) {
    TargetOutcome* outcome = &fanout->request->outcomes[channel->index];
    outcome->failed = true;
    outcome->refused = refused;
    outcome->sqlstate = error->sqlerrcode;
    outcome->message = pstrdup(error->message ? error->message : "unknown error");
    outcome->detail = error->detail ? pstrdup(error->detail) : nullptr;
    outcome->hint = error->hint ? pstrdup(error->hint) : nullptr;
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

void store_received_row(void* arg, char** values) {
  Channel* channel = static_cast<Channel*>(arg);
  store_row(channel->fanout, channel, values);
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
      channel->column_count = mq_read_column_count(&message);
      check_column_count(channel, channel->column_count);
      channel->column_types = static_cast<Oid*>(palloc(sizeof(Oid) * Max(channel->column_count, 1)));
      channel->column_names = static_cast<const char**>(palloc(sizeof(char*) * Max(channel->column_count, 1)));
      mq_read_columns(&message, channel->column_count, channel->column_types, channel->column_names);
      accept_columns(fanout, channel);
      break;
    case kRowMessage:
      mq_read_rows(&message, channel->column_count, store_received_row, channel);
      report_rows(fanout, channel);
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
  if (PQnfields(result) != channel->column_count)
    ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION),
                    errmsg("connection \"%s\" returned %d columns in a later batch, %d in the first", channel->target->name,
                           PQnfields(result), channel->column_count)));
  int n = Max(channel->column_count, 1);
  char** values = static_cast<char**>(palloc(sizeof(char*) * n));
  int* lengths = static_cast<int*>(palloc(sizeof(int) * n));
  bool* binary = static_cast<bool*>(palloc(sizeof(bool) * n));
  bool any_binary = false;
  for (int c = 0; c < channel->column_count; c++) {
    binary[c] = PQfformat(result, c) == 1;  // the FETCH's resultFormat, chosen in accept_columns
    any_binary |= binary[c];
  }
  if (any_binary) check_binary_columns(fanout, channel, binary);
  int rows = PQntuples(result);
  for (int row = 0; row < rows; row++) {
    for (int c = 0; c < channel->column_count; c++) {
      lengths[c] = PQgetlength(result, row, c);
      // Only an empty value may be a NULL: the one look-up per value of a wide result spared where it cannot be.
      values[c] = lengths[c] == 0 && PQgetisnull(result, row, c) ? nullptr : PQgetvalue(result, row, c);
    }
    store_row(fanout, channel, values, lengths, any_binary ? binary : nullptr);
    CHECK_FOR_INTERRUPTS();
  }
  pfree(values);
  pfree(lengths);
  pfree(binary);
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
          report_rows(fanout, channel);
        }
        PG_FINALLY();
        {
          PQclear(result);
        }
        PG_END_TRY();
        break;
      }
      case RemoteEvent::kDone: {
        ConnectionHistory history;
        if (PGconn* idle = remote_release(&channel->local, &history)) {
          pool_put(channel->target->server_oid, GetUserId(), channel->target->name, channel->cluster, idle, history);
          channel->holds_slot = false;  // it went with the connection
        }
        finish_channel(fanout, channel);
        return true;
      }
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

// ---- the call ----------------------------------------------------------------------------------------------

// Local connections are closed, and every slot given back, on every way out, including errors and cancels. The
// statements still running get their cancel requests all at once (one process start for the lot, not one per
// target: a thousand targets in this backend end within the second).
void abandon_local_channels(void* arg) {
  Fanout* fanout = static_cast<Fanout*>(arg);
  free_wait_set(fanout);  // its epoll descriptor too
  PGconn** running = static_cast<PGconn**>(malloc(sizeof(PGconn*) * Max(fanout->channel_count, 1)));
  if (running != nullptr) {  // else each is cancelled on its own below
    int count = 0, deadline_s = 1;
    for (int i = 0; i < fanout->channel_count; i++) {
      int channel_deadline_s;
      if (PGconn* conn = remote_take_running(&fanout->channels[i].local, &channel_deadline_s)) {
        running[count++] = conn;
        deadline_s = Max(deadline_s, channel_deadline_s);
      }
    }
    send_cancels_detached(running, count, deadline_s);
    free(running);
  }
  for (int i = 0; i < fanout->channel_count; i++) {
    remote_abandon(&fanout->channels[i].local);
    release_claims(&fanout->channels[i]);
  }
}

}  // namespace

RemoteTarget* resolve_targets(ArrayType* names, int* count) {
  pool_catch_up_with_catalog();
  return resolve_connection_names(names, count);
}

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
    fanout->channels[i].fanout = fanout;
    fanout->channels[i].cluster = cluster_of(&request->targets[i]);
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

  if (request->report_progress && progress_on()) judge_targets_reporting(fanout);
  else judge_targets(fanout);
  create_shared_call(fanout);
  take_warm_connections(fanout);
  start_more(fanout);
  while (fanout->head < request->target_count) {
    bool progressed = false;
    for (int i = fanout->head; i < request->target_count; i++) {
      Channel* channel = &fanout->channels[i];
      if (channel->state == ChannelState::kWorker) progressed |= pump_worker(fanout, channel);
      else if (channel->state == ChannelState::kLocal) progressed |= pump_local(fanout, channel);
    }
    progressed |= start_more(fanout);  // a new target's first step is taken before any wait
    CHECK_FOR_INTERRUPTS();
    if (fanout->head >= request->target_count) break;
    if (!progressed) wait_for_progress(fanout);
  }

  abandon_local_channels(fanout);
  if (fanout->move_slot != nullptr) ExecDropSingleTupleTableSlot(fanout->move_slot);
  if (fanout->segment != nullptr) dsm_detach(fanout->segment);  // terminates any worker still exiting
}

const char* remote_check_sql_for(const char* sql) {
  GuardVerdict verdict = require_read_only(sql, "any connection");
  return remote_check_sql(sql, &verdict.names).inline_sql;
}

}  // namespace multidb
