#include "pg/history_writer.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
}

namespace multidb {
namespace {

constexpr uint32 kHistoryMagic = 0x6d646231;  // "mdb1"

struct HistoryRecord {
  uint32 magic;
  Oid database;
  Oid user;
  bool done;
  bool failed;
  char error[1024];
  char json[FLEXIBLE_ARRAY_MEMBER];
};

}  // namespace

void write_history_autonomously(const char* record_json) {
  Size length = strlen(record_json);
  dsm_segment* segment = dsm_create(offsetof(HistoryRecord, json) + length + 1, 0);
  HistoryRecord* record = static_cast<HistoryRecord*>(dsm_segment_address(segment));
  record->magic = kHistoryMagic;
  record->database = MyDatabaseId;
  record->user = GetUserId();
  record->done = false;
  record->failed = false;
  record->error[0] = '\0';
  memcpy(record->json, record_json, length + 1);

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

  BackgroundWorkerHandle* handle;
  if (!RegisterDynamicBackgroundWorker(&worker, &handle)) {
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: no background worker slot "
                             "is free"),
                      errhint("Raise max_worker_processes.")));
    dsm_detach(segment);
    return;
  }
  pid_t pid;
  if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED) WaitForBackgroundWorkerShutdown(handle);
  if (!record->done || record->failed)
    ereport(WARNING, (errmsg("multidb could not record this ask in multidb.query_history: %s",
                             record->error[0] ? record->error : "the history writer stopped early")));
  dsm_detach(segment);
}

}  // namespace multidb

using namespace multidb;

void multidb_history_writer_main(Datum main_arg) {
  BackgroundWorkerUnblockSignals();
  dsm_segment* segment = dsm_attach(DatumGetUInt32(main_arg));
  if (segment == nullptr) return;
  HistoryRecord* record = static_cast<HistoryRecord*>(dsm_segment_address(segment));
  if (record->magic != kHistoryMagic) return;
  BackgroundWorkerInitializeConnectionByOid(record->database, record->user, 0);

  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "multidb: recording an ask");
  SPI_connect();
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(record->json)};
  PG_TRY();
  {
    SPI_execute_with_args("SELECT multidb._record_ask($1::jsonb)", 1, types, args, nullptr, false, 0);
  }
  PG_CATCH();
  {
    ErrorData* error = CopyErrorData();
    strlcpy(record->error, error->message ? error->message : "unknown error", sizeof(record->error));
    record->failed = true;
    record->done = true;
    PG_RE_THROW();
  }
  PG_END_TRY();
  SPI_finish();
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);
  record->done = true;
}
