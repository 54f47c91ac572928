// The history writer: the background worker that records an ask in a transaction of its own, and the
// asking side that starts it and hands the record over (the design is in history_writer.hpp).
#include "ask/history_writer.hpp"
#include "foundation/extension_tables.hpp"

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
#include "utils/snapmgr.h"
}

namespace multidb {

namespace {

constexpr uint32 kHistoryMagic = 0x6d646231;  // "mdb1"
constexpr Size kQueueSize = 64 * 1024;

struct SharedHistory {
  uint32 magic;
  Oid database;
  Oid user;
  int asker_pgprocno;  // whose latch to set once the record is committed
  bool done;
  bool failed;
  char error[1024];
  Size ended_record_offset;  // the record of the ask as cancelled, after the queue; 0: none
  char queue[FLEXIBLE_ARRAY_MEMBER];  // a shm_mq of kQueueSize bytes, MAXALIGNed below
};

Size queue_offset() { return MAXALIGN(offsetof(SharedHistory, queue)); }

}  // namespace

struct HistoryWriter {
  dsm_segment* segment;
  SharedHistory* shared;
  shm_mq_handle* queue;
  BackgroundWorkerHandle* worker;
};

HistoryWriter* start_history_writer(const char* record_if_ended) {
  Size ended_length = record_if_ended ? strlen(record_if_ended) + 1 : 0;
  dsm_segment* segment = dsm_create(queue_offset() + kQueueSize + ended_length, 0);
  SharedHistory* shared = static_cast<SharedHistory*>(dsm_segment_address(segment));
  shared->magic = kHistoryMagic;
  shared->database = MyDatabaseId;
  shared->user = GetUserId();
  shared->asker_pgprocno = MyProc->pgprocno;
  shared->done = false;
  shared->failed = false;
  shared->error[0] = '\0';
  shared->ended_record_offset = ended_length ? queue_offset() + kQueueSize : 0;
  if (ended_length) memcpy(reinterpret_cast<char*>(shared) + shared->ended_record_offset, record_if_ended, ended_length);
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
  if (!RegisterDynamicBackgroundWorker(&worker, &writer->worker)) {
    writer->worker = nullptr;
    return writer;
  }
  writer->queue = shm_mq_attach(mq, segment, writer->worker);
  return writer;
}

void finish_history_writer(HistoryWriter* writer, const char* record_json) {
  if (writer->worker == nullptr) {
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: no background worker "
                             "slot was free"),
                      errhint("Raise max_worker_processes.")));
    dsm_detach(writer->segment);
    return;
  }
  shm_mq_result sent = shm_mq_send(writer->queue, strlen(record_json) + 1, record_json, false, true);
  // Wait for the commit, not for the worker's exit: it sets our latch as soon as the record is in.
  while (sent == SHM_MQ_SUCCESS && !writer->shared->done) {
    pid_t pid;
    if (GetBackgroundWorkerPid(writer->worker, &pid) == BGWH_STOPPED) break;
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
  pg_read_barrier();
  if (!writer->shared->done || writer->shared->failed)
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: %s",
                             writer->shared->error[0] ? writer->shared->error : "the history writer stopped early")));
  dsm_detach(writer->segment);
}

}  // namespace multidb

using namespace multidb;

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

  // Warm the caches while the ask is still running, so that the record commits quickly once it arrives.
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  record_ask(nullptr);
  PopActiveSnapshot();
  CommitTransactionCommand();

  Size length;
  void* data;
  const char* record;
  if (shm_mq_receive(queue, &length, &data, false) == SHM_MQ_SUCCESS) {
    record = static_cast<const char*>(data);
  } else {
    // The asking backend ended before it handed its record over: record the ask as cancelled.
    if (shared->ended_record_offset == 0) return;
    record = reinterpret_cast<const char*>(shared) + shared->ended_record_offset;
  }

  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "multidb: recording an ask");
  // The ask waits for this commit; it need not wait for the WAL flush too (a crash may lose the last
  // few milliseconds of history, never make it inconsistent).
  (void)set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
  PG_TRY();
  {
    record_ask(record);
  }
  PG_CATCH();
  {
    ErrorData* error = CopyErrorData();
    strlcpy(shared->error, error->message ? error->message : "unknown error", sizeof(shared->error));
    shared->failed = true;
    pg_write_barrier();
    shared->done = true;
    SetLatch(&ProcGlobal->allProcs[shared->asker_pgprocno].procLatch);
    PG_RE_THROW();
  }
  PG_END_TRY();
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);
  pg_write_barrier();
  shared->done = true;
  SetLatch(&ProcGlobal->allProcs[shared->asker_pgprocno].procLatch);
}
