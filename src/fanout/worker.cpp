// A multidb background worker: runs one statement on one remote database and streams the rows to the
// calling backend through its shm_mq. It needs no database of its own: the caller resolved the
// connection (permissions, user mapping) and put everything in shared memory.
#include "fanout/mq_protocol.hpp"
#include "fanout/remote.hpp"
#include "fanout/shared_call.hpp"

extern "C" {
#include "access/htup_details.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/resowner.h"
}

namespace multidb {
namespace {

RemoteSession session;  // static: the exit callback must reach it
MqWriter writer;
SharedCall* call;
volatile sig_atomic_t termination_requested = false;

void cancel_remote_on_exit(int, Datum) { remote_abandon(&session); }

// SIGTERM comes from the caller ending the call (a cancel, an error elsewhere, its exit) or from an
// administrator or a shutdown. The first is routine and ends the worker quietly; only the second is worth a
// FATAL line in the server log.
void handle_sigterm(SIGNAL_ARGS) {
  int saved_errno = errno;
  termination_requested = true;
  SetLatch(MyLatch);
  errno = saved_errno;
}

void check_for_termination();

void check_between_rows() {
  check_for_termination();
  CHECK_FOR_INTERRUPTS();
}

void check_for_termination() {
  if (!termination_requested) return;
  if (pg_atomic_read_u32(&call->caller_ended) != 0) {
    remote_abandon(&session);
    proc_exit(0);
  }
  ereport(FATAL, (errcode(ERRCODE_ADMIN_SHUTDOWN),
                  errmsg("terminating multidb worker for connection \"%s\" due to administrator command", session.name)));
}

// Runs the statement; returns when done, when the caller left, or raises (the error reaches the caller).
void run_statement() {
  bool columns_sent = false;
  int64 rows = 0;
  for (;;) {
    PGresult* result;
    RemoteEvent event = remote_advance(&session, &result);
    switch (event) {
      case RemoteEvent::kWantRead:
      case RemoteEvent::kWantWrite: {
        int wanted = event == RemoteEvent::kWantRead ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
        long timeout = remote_timeout_ms(&session);
        for (;;) {
          int rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | wanted | (timeout >= 0 ? WL_TIMEOUT : 0),
                                     remote_socket(&session), timeout, PG_WAIT_EXTENSION);
          ResetLatch(MyLatch);
          check_for_termination();
          CHECK_FOR_INTERRUPTS();
          if (rc & (wanted | WL_TIMEOUT)) break;
        }
        break;
      }
      case RemoteEvent::kRows: {
        if (!columns_sent) check_result_width(session.name, PQnfields(result));
        bool sent = (columns_sent || mq_send_columns(&writer, result)) && mq_send_rows(&writer, result);
        columns_sent = true;
        rows += PQntuples(result);
        PQclear(result);
        if (!sent) return;
        break;
      }
      case RemoteEvent::kDone:
        mq_send_complete(&writer, rows);
        return;
      case RemoteEvent::kFailed:
        if (session.failure.refused && !mq_send_refused(&writer)) return;
        report_remote_failure(&session.failure, ERROR);  // becomes FATAL here; the caller gets it as 'E'
        return;
    }
  }
}


}  // namespace
}  // namespace multidb

using namespace multidb;

void multidb_worker_main(Datum main_arg) {
  pqsignal(SIGTERM, handle_sigterm);
  BackgroundWorkerUnblockSignals();
  // No database: only the shared catalogs, which is enough to show up in pg_stat_activity.
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
  CurrentResourceOwner = ResourceOwnerCreate(nullptr, "multidb worker");

  dsm_segment* segment = dsm_attach(DatumGetUInt32(main_arg));
  if (segment == nullptr) return;  // the caller already gave up and removed the segment
  call = static_cast<SharedCall*>(dsm_segment_address(segment));
  if (call->magic != kSharedCallMagic) return;
  int slot_index;
  memcpy(&slot_index, MyBgworkerEntry->bgw_extra, sizeof(slot_index));
  if (slot_index < 0 || slot_index >= call->slot_count) return;
  const SharedSlot* slot = &call->slots[slot_index];

  shm_mq* mq = shared_queue(call, slot_index);
  shm_mq_set_sender(mq, MyProc);
  shm_mq_handle* queue = shm_mq_attach(mq, segment, nullptr);
  pq_redirect_to_shm_mq(segment, queue);
  mq_writer_init(&writer, queue, check_between_rows);

  const char** keywords;
  const char** values;
  unpack_options(shared_string(call, slot->options_offset), &keywords, &values);
  // A worker keeps no connection: the checks go unnamed (remote_pipeline.hpp).
  RemoteStatement statement{shared_string(call, call->setup_sql_offset), shared_string(call, slot->check_sql_offset),
                            shared_string(call, slot->sql_offset), shared_string(call, call->allowed_volatile_offset),
                            call->catalog_search_path, call->describe_only,
                            shared_string(call, slot->check_parameters_offset),
                            shared_string(call, call->timezone_offset), false};
  remote_init(&session, pstrdup(shared_string(call, slot->name_offset)), keywords, values, &statement,
              slot->require_password, RemoteRisks{slot->allow_privileged_role, slot->allow_implicit_volatile},
              slot->connect_timeout_s,
              call->statement_timeout_ms, call->fetch_size);
  before_shmem_exit(cancel_remote_on_exit, 0);

  pgstat_report_activity(STATE_RUNNING, shared_string(call, slot->sql_offset));
  run_statement();
  remote_abandon(&session);
}
