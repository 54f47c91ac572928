// The history writer: the background worker that records an ask in a transaction of its own and stays for the
// backend's next asks while they come, and the asking side that starts or reuses it and hands the records over
// (the design is in history_writer.hpp).
#include "ask/history_writer.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/worker_shortage.hpp"

extern "C" {
#include "access/xact.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

constexpr uint32 kHistoryMagic = 0x6d646232;  // "mdb2"
constexpr Size kQueueSize = 64 * 1024;
// The record of an ask as cancelled lies in shared memory when it fits here, so that handing it over wakes no one: the
// writer reads it only if the asking backend ends first. A longer one (a long question) goes through the queue.
constexpr Size kIfEndedSize = 8 * 1024;
// An idle writer leaves after this long without an ask (history_writer.hpp says why it stays at all).
constexpr long kWriterIdleSeconds = 5;
// How often an idle writer looks for a shortage of worker slots (foundation/worker_shortage.hpp), and how long and how
// often an ask whose writer found no free slot tries again while idle writers leave.
constexpr long kShortageLookMs = 50;
constexpr long kRetryEveryMs = 10;
constexpr long kRetryForMs = 1000;

// Asking side -> writer, one byte of kind then the record's text with its NUL (none: no record); a final message may
// carry after it a plan cache key with its NUL, whose hit the writer counts once the record is in.
constexpr char kBeginMessage = 'B';  // an ask starts: the record to write should the asking backend end first, when it
                                     // is too long for SharedHistory.if_ended
constexpr char kFinalMessage = 'F';  // the ask's record: write it, and say so

// Who may act on the writer next. Only the asking side moves kIdle -> kClaimed (an ask starts) and back (its record
// is in); only the writer moves kIdle -> kLeaving (idle too long), after which it takes no more asks. The two
// compare-and-swap on kIdle, so an ask never hands a record to a writer on its way out.
enum WriterState : uint32 { kIdle = 0, kClaimed = 1, kLeaving = 2 };

struct SharedHistory {
  uint32 magic;
  Oid database;
  Oid user;
  int asker_pgprocno;           // whose latch to set once a record is committed
  pg_atomic_uint32 state;       // WriterState
  pg_atomic_uint64 committed;   // final records written (or failed): the asking side counts what it handed over
  bool failed;                  // the last final record could not be written; then the writer exits
  char error[1024];
  // The running ask's record as cancelled (a C string), valid for ask number if_ended_ask (the final records handed
  // over before it, plus one); an older number is left over from an ask whose final record came.
  pg_atomic_uint64 if_ended_ask;
  char if_ended[kIfEndedSize];
  char queue[FLEXIBLE_ARRAY_MEMBER];  // a shm_mq of kQueueSize bytes, MAXALIGNed below
};

Size queue_offset() { return MAXALIGN(offsetof(SharedHistory, queue)); }

}  // namespace

struct HistoryWriter {
  dsm_segment* segment;  // mapped for the session (dsm_pin_mapping): the writer outlives the ask's transaction
  SharedHistory* shared;
  shm_mq_handle* queue;
  BackgroundWorkerHandle* worker;  // nullptr: no worker slot was free
  uint64 handed_over;              // final records sent so far
};

namespace {

// This backend's writer between asks (idle, or gone without our knowing yet); nullptr: none.
HistoryWriter* kept_writer = nullptr;

void let_go(HistoryWriter* writer) {
  if (writer == kept_writer) kept_writer = nullptr;
  dsm_detach(writer->segment);  // an idle writer sees its queue detached and exits
  if (writer->worker != nullptr) pfree(writer->worker);
  pfree(writer);
}

// The kept writer, claimed for this ask, if it is still there for this role; else it is let go and nullptr.
HistoryWriter* claim_kept_writer() {
  HistoryWriter* writer = kept_writer;
  if (writer == nullptr) return nullptr;
  kept_writer = nullptr;
  pid_t pid;
  uint32 idle = kIdle;
  if (writer->shared->user == GetUserId() && GetBackgroundWorkerPid(writer->worker, &pid) != BGWH_STOPPED &&
      pg_atomic_compare_exchange_u32(&writer->shared->state, &idle, kClaimed))
    return writer;
  let_go(writer);
  return nullptr;
}

HistoryWriter* new_writer() {
  MemoryContext caller_context = MemoryContextSwitchTo(TopMemoryContext);
  dsm_segment* segment = dsm_create(queue_offset() + kQueueSize, 0);
  dsm_pin_mapping(segment);
  SharedHistory* shared = static_cast<SharedHistory*>(dsm_segment_address(segment));
  shared->magic = kHistoryMagic;
  shared->database = MyDatabaseId;
  shared->user = GetUserId();
  shared->asker_pgprocno = MyProc->pgprocno;
  pg_atomic_init_u32(&shared->state, kClaimed);
  pg_atomic_init_u64(&shared->committed, 0);
  pg_atomic_init_u64(&shared->if_ended_ask, 0);
  shared->failed = false;
  shared->error[0] = '\0';
  shm_mq* mq = shm_mq_create(reinterpret_cast<char*>(shared) + queue_offset(), kQueueSize);
  shm_mq_set_sender(mq, MyProc);

  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  snprintf(worker.bgw_name, BGW_MAXLEN, "multidb history writer");
  snprintf(worker.bgw_type, BGW_MAXLEN, "multidb history writer");
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "multidb");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "multidb_history_writer_main");
  worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));
  worker.bgw_notify_pid = MyProcPid;

  HistoryWriter* writer = static_cast<HistoryWriter*>(palloc0(sizeof(HistoryWriter)));
  writer->segment = segment;
  writer->shared = shared;
  // No free slot: say so, so that idle kept writers (other backends') leave, and try again as their slots come free.
  // Without the shared signal no writer is kept, and waiting would not free a slot sooner.
  bool registered = RegisterDynamicBackgroundWorker(&worker, &writer->worker);
  if (!registered && worker_shortage_shared()) {
    PG_TRY();
    {
      TimestampTz give_up_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kRetryForMs);
      while (!registered && GetCurrentTimestamp() < give_up_at) {
        worker_shortage_note();
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kRetryEveryMs, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        registered = RegisterDynamicBackgroundWorker(&worker, &writer->worker);
      }
    }
    PG_CATCH();
    {
      MemoryContextSwitchTo(caller_context);
      dsm_detach(segment);
      pfree(writer);
      PG_RE_THROW();
    }
    PG_END_TRY();
  }
  if (!registered) writer->worker = nullptr;
  else writer->queue = shm_mq_attach(mq, segment, writer->worker);
  MemoryContextSwitchTo(caller_context);
  return writer;
}

// One message of kind, record (nullptr: the kind alone) and key (nullptr: none; only after a record); false if the
// writer is gone. A cancel while the queue is full lets the writer go before the ERROR goes on.
bool send_message(HistoryWriter* writer, char kind, const char* record, const char* key = nullptr) {
  shm_mq_iovec parts[3] = {{&kind, 1}, {record, record ? strlen(record) + 1 : 0}, {key, key ? strlen(key) + 1 : 0}};
  shm_mq_result sent = SHM_MQ_DETACHED;
  PG_TRY();
  {
    sent = shm_mq_sendv(writer->queue, parts, record ? (key ? 3 : 2) : 1, false, true);
  }
  PG_CATCH();
  {
    let_go(writer);
    PG_RE_THROW();
  }
  PG_END_TRY();
  return sent == SHM_MQ_SUCCESS;
}

}  // namespace

namespace {

// The record to write should the asking backend end before its final record: into shared memory when it fits (the
// writer is not woken), else a message. False if the writer is gone.
bool hand_over_if_ended(HistoryWriter* writer, const char* record_if_ended) {
  if (record_if_ended != nullptr && strlen(record_if_ended) < kIfEndedSize) {
    memcpy(writer->shared->if_ended, record_if_ended, strlen(record_if_ended) + 1);
    pg_write_barrier();  // the text is whole before its number says it is this ask's
    pg_atomic_write_u64(&writer->shared->if_ended_ask, writer->handed_over + 1);
    return true;
  }
  return send_message(writer, kBeginMessage, record_if_ended);
}

}  // namespace

HistoryWriter* start_history_writer(const char* record_if_ended) {
  HistoryWriter* writer = claim_kept_writer();
  if (writer != nullptr && hand_over_if_ended(writer, record_if_ended)) return writer;
  if (writer != nullptr) let_go(writer);  // it ended between the look and the message: a new one
  writer = new_writer();
  if (writer->worker != nullptr && !hand_over_if_ended(writer, record_if_ended)) {
    // It could not even start: the WARNING at finish time says so, as for no slot.
    pfree(writer->worker);
    writer->worker = nullptr;
  }
  return writer;
}

void finish_history_writer(HistoryWriter* writer, const char* record_json, const char* plan_hit_key) {
  if (writer->worker == nullptr) {
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: no background worker "
                             "slot was free"),
                      errhint("Raise max_worker_processes.")));
    let_go(writer);
    return;
  }
  SharedHistory* shared = writer->shared;
  uint64 wanted = ++writer->handed_over;
  bool sent = send_message(writer, kFinalMessage, record_json, plan_hit_key);
  // Wait for the commit: the writer sets our latch as soon as the record is in. A cancel here lets the writer go
  // (it still commits what it received whole, then sees its queue detached and exits).
  PG_TRY();
  {
    while (sent && pg_atomic_read_u64(&shared->committed) < wanted) {
      pid_t pid;
      if (GetBackgroundWorkerPid(writer->worker, &pid) == BGWH_STOPPED) break;
      (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
    }
  }
  PG_CATCH();
  {
    let_go(writer);
    PG_RE_THROW();
  }
  PG_END_TRY();
  pg_read_barrier();
  if (pg_atomic_read_u64(&shared->committed) < wanted || shared->failed) {
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: %s",
                             shared->error[0] ? shared->error : "the history writer stopped early")));
    let_go(writer);
    return;
  }
  if (!worker_shortage_shared()) {
    let_go(writer);  // no shared signal to make it give its slot up when another backend needs one: not kept
    return;
  }
  pg_atomic_write_u32(&shared->state, kIdle);
  if (kept_writer != nullptr) let_go(kept_writer);  // an ask ran inside this one and kept its own
  kept_writer = writer;
}

}  // namespace multidb

using namespace multidb;

namespace {

// One record in a transaction of its own. The ask waits for this commit; it need not wait for the WAL flush too (a
// crash may lose the last few milliseconds of history, never make it inconsistent).
void write_record(const char* record) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "multidb: recording an ask");
  (void)set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
  record_ask(record);
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);
}

// The plan cache hit an ask reported, counted in a transaction of its own once the ask has its answer, so that the
// ask waits for neither (a cached ask's own transaction writes nothing either). A failure costs that one count: a
// WARNING in the server log, and the writer goes on.
void count_hit_after(const char* plan_hit_key) {
  MemoryContext context = CurrentMemoryContext;
  PG_TRY();
  {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "multidb: counting a plan cache hit");
    (void)set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
                            false);
    count_plan_hit(plan_hit_key);
    PopActiveSnapshot();
    CommitTransactionCommand();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    AbortCurrentTransaction();
    ereport(WARNING, (errmsg("multidb could not count a plan cache hit: %s", error->message)));
  }
  PG_END_TRY();
  pgstat_report_activity(STATE_IDLE, nullptr);
}

}  // namespace

void multidb_history_writer_main(Datum main_arg) {
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  dsm_segment* segment = dsm_attach(DatumGetUInt32(main_arg));
  if (segment == nullptr) return;
  SharedHistory* shared = static_cast<SharedHistory*>(dsm_segment_address(segment));
  if (shared->magic != kHistoryMagic) return;
  BackgroundWorkerInitializeConnectionByOid(shared->database, shared->user, 0);

  shm_mq* mq = reinterpret_cast<shm_mq*>(reinterpret_cast<char*>(shared) + queue_offset());
  shm_mq_set_receiver(mq, MyProc);
  shm_mq_handle* queue = shm_mq_attach(mq, segment, nullptr);

  // Warm the caches while the first ask is still running, so that its record commits quickly once it arrives.
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  record_ask(nullptr);
  PopActiveSnapshot();
  CommitTransactionCommand();

  // The record of the running ask as cancelled, written if the asking backend ends before its final record.
  MemoryContext pending_context = AllocSetContextCreate(TopMemoryContext, "multidb pending ask", ALLOCSET_SMALL_SIZES);
  bool pending = false;
  const char* if_ended = nullptr;
  TimestampTz idle_since = GetCurrentTimestamp();
  uint64 shortages_seen = worker_shortage_count();  // when it became idle: a shortage since then makes it leave
  for (;;) {
    Size length;
    void* data;
    shm_mq_result received = shm_mq_receive(queue, &length, &data, true);
    if (received == SHM_MQ_DETACHED) {
      // The asking backend ended (or let this writer go) while an ask ran: record it as cancelled.
      pg_read_barrier();
      if (pending && if_ended != nullptr)
        write_record(if_ended);
      else if (pg_atomic_read_u64(&shared->if_ended_ask) > pg_atomic_read_u64(&shared->committed) &&
               strnlen(shared->if_ended, kIfEndedSize) < kIfEndedSize)
        write_record(pstrdup(shared->if_ended));
      return;
    }
    if (received == SHM_MQ_WOULD_BLOCK) {
      long idle_ms = kWriterIdleSeconds * 1000;
      // An ask is running when its record as cancelled came as a message, or lies in shared memory for an ask whose
      // final record has not come (nothing woke us for it). Not the state: the asker sets it back to idle only once it
      // has seen the commit, and a writer that waited on it would miss a shortage for its whole idle time.
      bool asking = pending || pg_atomic_read_u64(&shared->if_ended_ask) > pg_atomic_read_u64(&shared->committed);
      if (!asking) {
        long waited_ms = (GetCurrentTimestamp() - idle_since) / 1000;
        bool slot_wanted = worker_shortage_count() != shortages_seen;
        uint32 idle = kIdle;
        if ((waited_ms >= idle_ms || slot_wanted) &&
            pg_atomic_compare_exchange_u32(&shared->state, &idle, kLeaving))
          return;
        idle_ms = Max(idle_ms - waited_ms, 10);  // claimed meanwhile: its message is on the way
        if (worker_shortage_shared()) idle_ms = Min(idle_ms, kShortageLookMs);
      }
      (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, idle_ms, PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
      continue;
    }
    const char* message = static_cast<const char*>(data);
    const char* record = length > 1 ? message + 1 : nullptr;
    // (Within the message: the record's NUL, then the key and its own NUL, or nothing.)
    const char* after_record = record != nullptr ? record + strnlen(record, length - 1) + 1 : nullptr;
    const char* plan_hit_key = after_record != nullptr && after_record < message + length &&
                                       memchr(after_record, '\0', message + length - after_record) != nullptr
                                   ? after_record
                                   : nullptr;
    if (message[0] == kBeginMessage) {
      MemoryContextReset(pending_context);
      pending = true;
      if_ended = record ? MemoryContextStrdup(pending_context, record) : nullptr;
      continue;
    }
    if (message[0] != kFinalMessage) elog(ERROR, "multidb history writer: an unknown message '%c'", message[0]);
    PG_TRY();
    {
      write_record(record);
    }
    PG_CATCH();
    {
      ErrorData* error = CopyErrorData();
      strlcpy(shared->error, error->message ? error->message : "unknown error", sizeof(shared->error));
      shared->failed = true;
      pg_write_barrier();
      pg_atomic_fetch_add_u64(&shared->committed, 1);
      SetLatch(&ProcGlobal->allProcs[shared->asker_pgprocno].procLatch);
      PG_RE_THROW();
    }
    PG_END_TRY();
    pending = false;
    if_ended = nullptr;
    MemoryContextReset(pending_context);
    const char* hit_key = plan_hit_key != nullptr ? MemoryContextStrdup(pending_context, plan_hit_key) : nullptr;
    pg_write_barrier();
    pg_atomic_fetch_add_u64(&shared->committed, 1);
    SetLatch(&ProcGlobal->allProcs[shared->asker_pgprocno].procLatch);
    if (hit_key != nullptr) count_hit_after(hit_key);
    idle_since = GetCurrentTimestamp();
    shortages_seen = worker_shortage_count();
  }
}
