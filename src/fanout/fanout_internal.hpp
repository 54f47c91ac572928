// The executor's internal header: the structs one fan-out call is made of, and the functions its files share,
// grouped by file (as postgres_fdw's one internal header is). Only src/fanout/fanout_*.cpp, row_sink.cpp,
// shared_call.cpp and value_receive.cpp include it.
//
//   Fanout   one call: the request, a Channel per target, the DSM segment and its WorkerSet, the memory
//            contexts rows are made in, the wait set of the in-backend connections
//   Channel  one target: a background worker's queue, or an in-backend RemoteSession; its columns as they
//            arrived; its rows held until the targets before it are done (results stay in connection order)
//   WorkerSet the handles of the call's workers, terminated when the segment is detached
#pragma once

#include "core/json_row.hpp"
#include "fanout/fanout_executor.hpp"
#include "fanout/remote.hpp"
#include "fanout/shared_call.hpp"

extern "C" {
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/shm_mq.h"
#include "utils/jsonb.h"
}

namespace multidb {

// A worker's queue: kAllQueuesBudget shared by the call's targets, each between the two sizes (so that a call of
// a thousand targets maps 16 MB, not 64). No queue at all when no target of the call can run in a worker.
constexpr Size kMaxQueueSize = 1024 * 1024;
constexpr Size kMinQueueSize = 16 * 1024;
constexpr Size kAllQueuesBudget = 16 * 1024 * 1024;
constexpr int kMessagesPerTurn = 4096;  // then look at the other targets and at interrupts

enum class ChannelState { kWaiting, kWorker, kLocal, kFinished };

struct Fanout;

struct Channel {
  Fanout* fanout;  // the call it belongs to
  const RemoteTarget* target;
  const char* cluster;  // "address:port" (core/cluster_address.hpp), for multidb.max_connections_per_host
  bool holds_slot;      // of cluster (cluster_slots.hpp): given back when its connection closes
  bool waits_for_slot;  // counted as waiting for one
  PGconn* warm;         // a kept connection taken at the call's start, until the target starts
  ConnectionHistory warm_history;
  int index;
  ChannelState state;
  shm_mq_handle* queue;
  BackgroundWorkerHandle* worker;  // in TopMemoryContext, owned by WorkerSet
  RemoteSession local;
  bool local_ready;  // the local socket reported the event it waited for
  bool refused;      // the worker said its next error is a refusal
  const char* check_sql;         // the remote checks, inline (core/remote_checks.hpp); workers send these
  const char* check_parameters;  // the same names as the gated checks' parameters, for the pipeline
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
  FmgrInfo* own_receive_functions;  // for the columns that may come in binary (fn_oid InvalidOid: never)
  Oid* own_receive_ioparams;
  bool binary_rows_seen;  // a batch came in binary (a DEBUG1 message said so)
  // One row's values and nulls, reused row after row (in the call's context), and source_db's text once
  Datum* row_datums;
  bool* row_nulls;
  Datum source_db;
  int64 rows;
  TimestampTz started_at;
  bool failed;                  // its failure was reported: no done event
  int64 progress_rows;          // rows when the last progress event went out
  TimestampTz progress_at;      // and when
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
  bool waiting_for_slot;  // a target waits for a slot of its cluster: poll (cluster_slots.hpp)
  int finished;           // channels finished (done or failed), for progress
  dsm_segment* segment;  // nullptr when the call starts no worker: then shared is in the caller's memory
  SharedCall* shared;
  WorkerSet* workers;
  MemoryContext row_context;
  TupleTableSlot* move_slot;
  MemoryContext caller_context;
  // kTyped
  FmgrInfo* input_functions;
  Oid* input_ioparams;
  int32* input_typmods;
  FmgrInfo* receive_functions;  // for the columns that may come in binary (fn_oid InvalidOid: never)
  Oid* receive_ioparams;
  // error context while converting a value
  Channel* converting_channel;
  int converting_column;
  // The in-backend connections' sockets and the latch, built once and rebuilt only when the set of sockets
  // changes (a connection starts, ends, or libpq moves to another socket while connecting); between, only
  // the events each socket waits for are changed.
  WaitEventSet* wait_set;
};

// ---- shared_call.cpp: the DSM segment of a call ----------------------------------------------------------
void create_shared_call(Fanout* fanout);
bool call_uses_workers();  // multidb.max_workers > 0 and multidb.keep_connections off
const char* target_sql(const FanoutRequest* request, int i);

// ---- row_sink.cpp: remote values, text or binary, into the caller's rows ----------------------------------
void check_column_count(const Channel* channel, int count);  // more than a row holds: ERROR
// The target's columns are known; for an in-backend connection it also chooses the format of the FETCHes to come
// (RemoteSession.fetch_result_format): binary when every column can be read so (core/row_format.hpp).
void accept_columns(Fanout* fanout, Channel* channel);
// values[i]: nullptr for NULL, else text (NUL-terminated), or, where binary[i] (binary: nullptr for all text), the
// type's binary form of lengths[i] bytes.
void store_row(Fanout* fanout, Channel* channel, char** values, const int* lengths = nullptr,
               const bool* binary = nullptr);
// A batch's columns in binary (PQfformat) must be columns this call can receive so: ERROR otherwise. The first such
// batch of a connection is said in a DEBUG1 message.
void check_binary_columns(const Fanout* fanout, Channel* channel, const bool* binary);
void prepare_typed_input(Fanout* fanout);                   // kTyped: the result columns' input functions

// ---- value_receive.cpp: a value in its type's binary form -------------------------------------------------
// bytes: nullptr for NULL, else `length` bytes followed by a NUL (as libpq gives them). The type's checks hold;
// bytes the type does not read are an ERROR.
Datum receive_value(FmgrInfo* function, Oid ioparam, int32 typmod, char* bytes, int length);

// ---- fanout_wait.cpp: waiting for the in-backend connections and the latch --------------------------------
void wait_for_progress(Fanout* fanout);
void free_wait_set(Fanout* fanout);

}  // namespace multidb
