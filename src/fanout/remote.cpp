#include "fanout/remote.hpp"

#include "core/fetch_batch.hpp"
#include "core/remote_checks.hpp"
#include "fanout/remote_cancel.hpp"
#include "fanout/remote_describe.hpp"
#include "fanout/remote_judge.hpp"
#include "fanout/remote_pipeline.hpp"
#include "foundation/boundary.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

extern "C" {
#include "access/htup_details.h"
#include "storage/fd.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

constexpr int kReplyGraceMs = 1000;
constexpr int kCancelDeadlineS = 10;

char* trimmed_libpq_message(PGconn* conn) {
  char* message = pstrdup(conn ? PQerrorMessage(conn) : "out of memory");
  size_t length = strlen(message);
  while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == ' ')) message[--length] = '\0';
  return message;
}

RemoteEvent fail(RemoteSession* session, int sqlstate, const char* message, const char* detail = nullptr,
                 const char* hint = nullptr, const char* context = nullptr, bool refused = false) {
  session->failure.refused = refused;
  session->failure.sqlstate = sqlstate;
  session->failure.message = remote_message(session->name, message);
  session->failure.detail = detail;
  session->failure.hint = hint;
  session->failure.context = context;
  session->query_running = false;  // the remote is idle or gone; nothing to cancel
  remote_abandon(session);
  session->phase = RemotePhase::kFailed;
  return RemoteEvent::kFailed;
}

// A command is on its way: the remote owes an answer within multidb.statement_timeout plus a grace. The
// remote enforces its statement_timeout itself; this deadline is for a remote that cannot (frozen,
// unreachable): without it, nothing here would ever stop waiting for its answer.
void command_sent(RemoteSession* session) {
  session->query_running = true;
  session->reply_deadline = session->reply_timeout_ms > 0
                                ? TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
                                                              session->reply_timeout_ms + kReplyGraceMs)
                                : 0;
}

RemoteEvent fail_with_result(RemoteSession* session, PGresult* result, const char* during) {
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
  const char* remote_context = PQresultErrorField(result, PG_DIAG_CONTEXT);
  int code = sqlstate && strlen(sqlstate) == 5
                 ? MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4])
                 : ERRCODE_CONNECTION_FAILURE;
  char* message = pstrdup(primary ? primary : trimmed_libpq_message(session->conn));
  char* context = remote_context ? psprintf("%s\n%s on connection \"%s\": %s", remote_context, during,
                                            session->name, session->sql)
                                 : psprintf("%s on connection \"%s\": %s", during, session->name, session->sql);
  char* detail_copy = detail ? pstrdup(detail) : nullptr;
  char* hint_copy = hint ? pstrdup(hint) : nullptr;
  PQclear(result);
  return fail(session, code, message, detail_copy, hint_copy, context);
}

// Remote NOTICEs and WARNINGs reach the caller at their level, naming the connection (in a worker they
// travel through the shm_mq like its errors).
void ignore_notice(void*, const PGresult*) {}

void forward_remote_notice(void* arg, const PGresult* result) {
  const RemoteSession* session = static_cast<const RemoteSession*>(arg);
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary == nullptr) return;
  int elevel = severity != nullptr && strcmp(severity, "WARNING") == 0 ? WARNING : NOTICE;
  ereport(elevel, (errmsg_internal("connection \"%s\": %s", session->name, primary)));
}

// The guard read the statement as a standard-conforming server in this database's encoding; the remote
// must report the same, or a quote hidden behind a backslash could read as code on one side only.
const char* lexing_mismatch(const RemoteSession* session) {
  const char* conforming = PQparameterStatus(session->conn, "standard_conforming_strings");
  if (conforming == nullptr || strcmp(conforming, "on") != 0)
    return psprintf("standard_conforming_strings is %s", conforming ? conforming : "not reported");
  const char* encoding = PQparameterStatus(session->conn, "client_encoding");
  if (session->client_encoding != nullptr && (encoding == nullptr || pg_strcasecmp(encoding, session->client_encoding) != 0))
    return psprintf("client_encoding is %s, not %s", encoding ? encoding : "not reported", session->client_encoding);
  return nullptr;
}

RemoteEvent refuse_mismatch(RemoteSession* session, const char* mismatch) {
  return fail(session, ERRCODE_INSUFFICIENT_PRIVILEGE,
              psprintf("the remote session does not read SQL as multidb's guard does: %s", mismatch),
              "multidb pins these settings when it connects; something between here and the server (a pooler, "
              "a proxy, an event trigger) changed them back.",
              "Connect to the server directly, or make that layer keep the client's settings.", nullptr, true);
}

// The slower path: the settings, BEGIN READ ONLY and the inline checks, in one message (after a gate refused in the
// pipeline, behind the ROLLBACK of its failed transaction).
bool send_setup(RemoteSession* session, bool after_failed_transaction) {
  session->checks_executed = false;
  session->history.session_settings_set = true;  // its SETs come before BEGIN: no ROLLBACK undoes them
  // The checks run with search_path = pg_catalog; a statement of the user's gets the session's own back.
  const char* setup = psprintf("%s%s; %s%s", after_failed_transaction ? "ROLLBACK; " : "", session->setup_sql,
                               session->check_sql, session->catalog_search_path ? "" : "; RESET search_path");
  if (!PQsendQuery(session->conn, setup)) return false;
  session->phase = RemotePhase::kSetup;
  command_sent(session);
  return true;
}

RemoteEvent start_setup(RemoteSession* session) {
  if (session->require_password && !PQconnectionUsedPassword(session->conn))
    return fail(session, ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
                "the remote server did not ask for the password",
                "Non-superusers may only connect to servers that authenticate them by password.",
                "Change the remote server's authentication method, or have a superuser set "
                "password_required 'false' on the user mapping.");
  if (const char* mismatch = lexing_mismatch(session)) return refuse_mismatch(session, mismatch);
  if (PQsetnonblocking(session->conn, 1) != 0)
    return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  if (pipeline_wanted(session)) {
    if (!pipeline_send(session)) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
    command_sent(session);
  } else if (!send_setup(session, false)) {
    return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  }
  return RemoteEvent::kWantRead;  // replaced by the caller's loop reading results at once
}

// The statement runs as a cursor read in batches of fetch_size rows: one PGresult per batch instead of
// one per row, and never the whole result in memory. Sent with the extended protocol, which takes
// exactly one statement.
bool send_declare(RemoteSession* session) {
  const char* declare = psprintf("DECLARE multidb_rows NO SCROLL CURSOR FOR %s", session->sql);
  session->statement_sent = true;  // from here on, a failure is never retried on a new connection
  if (!PQsendQueryParams(session->conn, declare, 0, nullptr, nullptr, nullptr, nullptr, 0)) return false;
  session->phase = RemotePhase::kDeclare;
  command_sent(session);
  return true;
}

// The FETCH after a full batch: its rows by core/fetch_batch.hpp, from the batch's size in libpq's memory and the time
// since its FETCH went out.
int next_fetch_rows(const RemoteSession* session, const PGresult* batch) {
  FullBatch last{PQntuples(batch), static_cast<double>(PQresultMemorySize(batch)),
                 static_cast<double>(GetCurrentTimestamp() - session->fetch_sent_at)};
  return next_batch_rows(session->fetch_size, session->batch_bytes, session->batches_handed == 0, last);
}

bool send_fetch(RemoteSession* session, int rows) {
  const char* fetch = psprintf("FETCH %d FROM multidb_rows", rows);
  if (!PQsendQueryParams(session->conn, fetch, 0, nullptr, nullptr, nullptr, nullptr, session->fetch_result_format))
    return false;
  session->fetch_rows_sent = rows;
  session->fetch_sent_at = GetCurrentTimestamp();
  session->phase = RemotePhase::kFetch;
  command_sent(session);
  return true;
}

constexpr int kSetupAnswers = 3;

// The FETCH's batch to the caller. A full batch may have more behind it: ask for the next one now, so that the remote
// works while this one is handed on.
RemoteEvent hand_over_batch(RemoteSession* session, PGresult** result) {
  PGresult* batch = session->batch;
  session->batch = nullptr;
  if (batch == nullptr) return fail(session, ERRCODE_PROTOCOL_VIOLATION, "FETCH returned no result");
  bool sent = true;
  if (session->batches_handed == 0) pipeline_note_first_batch(session, PQntuples(batch) < session->fetch_rows_sent);
  if (PQntuples(batch) == session->fetch_rows_sent) {
    sent = send_fetch(session, next_fetch_rows(session, batch));
    session->batches_handed++;
  } else {
    session->phase = RemotePhase::kAllFetched;
  }
  if (!sent) {
    PQclear(batch);
    return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  }
  *result = batch;
  session->rows_handed_over = true;
  return RemoteEvent::kRows;
}

RemoteEvent advance_connect(RemoteSession* session) {
  if (GetCurrentTimestamp() >= session->connect_deadline)
    return fail(session, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                psprintf("could not connect within %d s", session->connect_timeout_s), nullptr,
                "Check that the server is up and reachable; the limit is the server's connect_timeout "
                "option or multidb.connect_timeout.");
  switch (PQconnectPoll(session->conn)) {
    case PGRES_POLLING_READING:
      return RemoteEvent::kWantRead;
    case PGRES_POLLING_WRITING:
      return RemoteEvent::kWantWrite;
    case PGRES_POLLING_OK:
      return start_setup(session);
    default:
      return fail(session, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                  psprintf("could not connect: %s", trimmed_libpq_message(session->conn)));
  }
}

}  // namespace

RemoteEvent remote_fail(RemoteSession* session, int sqlstate, const char* message) {
  return fail(session, sqlstate, message);
}

RemoteEvent remote_fail_detailed(RemoteSession* session, int sqlstate, const char* message, const char* detail,
                                 const char* hint, bool refused) {
  return fail(session, sqlstate, message, detail, hint, nullptr, refused);
}

RemoteEvent remote_check_lexing(RemoteSession* session) {
  if (const char* mismatch = lexing_mismatch(session)) return refuse_mismatch(session, mismatch);
  return RemoteEvent::kWantRead;
}

void remote_command_sent(RemoteSession* session) { command_sent(session); }

RemoteEvent remote_fail_with_result(RemoteSession* session, PGresult* result, const char* during) {
  return fail_with_result(session, result, during);
}

bool remote_send_setup_after_gate(RemoteSession* session) { return send_setup(session, true); }

RemoteEvent remote_hand_over_batch(RemoteSession* session, PGresult** result) { return hand_over_batch(session, result); }

const char* remote_libpq_message(RemoteSession* session) { return trimmed_libpq_message(session->conn); }

void check_result_width(const char* connection, int columns) {
  if (columns < 0 || columns > MaxTupleAttributeNumber)
    ereport(ERROR, (errcode(ERRCODE_TOO_MANY_COLUMNS),
                    errmsg("connection \"%s\": the result has %d columns, more than the %d a row can hold", connection,
                           columns, MaxTupleAttributeNumber)));
}

const char* remote_message(const char* name, const char* message) {
  return psprintf("connection \"%s\": %s", name, message);
}

void remote_init(RemoteSession* session, const char* name, const char* const* keywords,
                 const char* const* values, const RemoteStatement* statement, bool require_password,
                 RemoteRisks risks, int connect_timeout_s, int reply_timeout_ms, int fetch_size) {
  memset(session, 0, sizeof(*session));
  session->name = name;
  session->keywords = keywords;
  session->values = values;
  session->setup_sql = statement->setup_sql;
  session->check_sql = statement->check_sql;
  session->check_parameters = statement->check_parameters;
  session->timezone = statement->timezone;
  session->prepare_checks = statement->prepare_checks;
  session->sql = statement->sql;
  session->allowed_volatile = statement->allowed_volatile;
  session->catalog_search_path = statement->catalog_search_path;
  session->describe_only = statement->describe_only;
  for (int i = 0; keywords[i] != nullptr; i++)
    if (strcmp(keywords[i], "client_encoding") == 0) session->client_encoding = values[i];
  session->require_password = require_password;
  session->allow_privileged_role = risks.allow_privileged_role;
  session->allow_implicit_volatile = risks.allow_implicit_volatile;
  session->connect_timeout_s = connect_timeout_s;
  session->reply_timeout_ms = reply_timeout_ms;
  session->fetch_size = fetch_size;
  session->fetch_rows_sent = fetch_size;
  session->batch_bytes = kMaxBatchBytes;
  session->phase = RemotePhase::kIdle;
}

namespace {

RemoteEvent advance_once(RemoteSession* session, PGresult** result);

RemoteEvent advance_once(RemoteSession* session, PGresult** result) {
  *result = nullptr;
  if (session->rows_handed_over) {
    // The time the caller spent on the last batch is not the remote's: the next one is owed from now.
    session->rows_handed_over = false;
    if (session->phase == RemotePhase::kFetch) command_sent(session);
  }
  if (session->phase == RemotePhase::kIdle && session->conn != nullptr) {  // warm, from remote_adopt
    if (PQstatus(session->conn) != CONNECTION_OK ||
        (!session->history.reset_pending && PQtransactionStatus(session->conn) != PQTRANS_IDLE))
      return fail(session, ERRCODE_CONNECTION_FAILURE, "the kept connection is no longer usable");
    PQsetNoticeReceiver(session->conn, forward_remote_notice, session);
    session->connect_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), session->connect_timeout_s * 1000L);
    if (session->history.reset_pending) {
      // Usually already in the socket's buffer; else awaited within the reply deadline like any answer.
      session->phase = RemotePhase::kResetPending;
      command_sent(session);
    } else if (start_setup(session) == RemoteEvent::kFailed) {
      return RemoteEvent::kFailed;
    }
  }
  if (session->phase == RemotePhase::kIdle) {
    // Count the socket against max_files_per_process like any file the backend opens (unless the caller did).
    if (!session->holds_external_fd && !AcquireExternalFD())
      return fail(session, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                  "could not connect: this process has no file descriptor left", nullptr,
                  "Raise max_files_per_process or query fewer connections at once.");
    session->holds_external_fd = true;
    session->connect_deadline =
        TimestampTzPlusMilliseconds(GetCurrentTimestamp(), session->connect_timeout_s * 1000L);
    session->conn = PQconnectStartParams(session->keywords, session->values, 0);
    if (session->conn == nullptr || PQstatus(session->conn) == CONNECTION_BAD)
      return fail(session, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                  psprintf("could not connect: %s", trimmed_libpq_message(session->conn)));
    PQsetNoticeReceiver(session->conn, forward_remote_notice, session);
    session->phase = RemotePhase::kConnecting;
  }
  if (session->phase == RemotePhase::kConnecting) {
    RemoteEvent event = advance_connect(session);
    if (session->phase == RemotePhase::kConnecting || event == RemoteEvent::kFailed) return event;
  }
  if (session->phase == RemotePhase::kAllFetched) {
    // The transaction ends on purpose, not because nothing happens to commit it. A connection to be kept sends its
    // ROLLBACK and reset and does not wait for their answers: the next call reads them first (kResetPending).
    if (!PQsendQuery(session->conn, session->keep_connection ? kept_reset_sql(session) : "ROLLBACK"))
      return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
    if (session->keep_connection) session->history.session_settings_set = false;
    session->phase = session->keep_connection ? RemotePhase::kResetSending : RemotePhase::kRollback;
    command_sent(session);
  }
  if (session->phase == RemotePhase::kDone) return RemoteEvent::kDone;
  if (session->phase == RemotePhase::kFailed) return RemoteEvent::kFailed;

  for (;;) {
    int flushed = PQflush(session->conn);
    if (flushed < 0) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
    if (flushed > 0) return RemoteEvent::kWantWrite;
    if (session->phase == RemotePhase::kResetSending) {
      // All of it is on its way: the connection goes to the pool with its answers pending.
      session->query_running = false;
      session->history.reset_pending = true;
      session->phase = RemotePhase::kDone;
      return RemoteEvent::kDone;
    }
    // Read from the socket only when libpq has no complete result buffered: reading more each time
    // would grow libpq's buffer and move it on every call.
    if (PQisBusy(session->conn)) {
      if (!PQconsumeInput(session->conn))
        return fail(session, ERRCODE_CONNECTION_FAILURE,
                    psprintf("connection lost: %s", trimmed_libpq_message(session->conn)));
      if (PQisBusy(session->conn)) {
        if (session->reply_deadline != 0 && GetCurrentTimestamp() >= session->reply_deadline) {
          // The statement may still run once the server answers again: ask it to stop (fail() closes
          // without a cancel, since its other callers know the remote to be idle or gone).
          send_cancel_detached(session->conn, Min(session->connect_timeout_s, kCancelDeadlineS));
          session->gave_up_waiting = true;
          return fail(session, ERRCODE_CONNECTION_FAILURE,
                      psprintf("no answer from the server within %d ms (multidb.statement_timeout and %d ms "
                               "of grace)",
                               session->reply_timeout_ms + kReplyGraceMs, kReplyGraceMs),
                      "The remote enforces statement_timeout itself, so a server that does not answer past it is "
                      "frozen or unreachable.",
                      "Check the server and the network; the connection was closed and a cancel request sent.");
        }
        return RemoteEvent::kWantRead;
      }
    }

    PGresult* next = PQgetResult(session->conn);
    if (next != nullptr) {
      ExecStatusType status = PQresultStatus(next);
      if (session->phase == RemotePhase::kPipeline) {
        if (pipeline_take_result(session, next)) continue;
        RemoteEvent event = pipeline_finish(session, result);  // the sync came
        if (event == RemoteEvent::kWantRead) continue;           // the slower path's message went out
        return event;
      }
      if (session->phase == RemotePhase::kResetPending) {
        reset_pending_take_result(session, next);
        continue;
      }
      if (session->phase == RemotePhase::kFetch && status == PGRES_TUPLES_OK) {
        session->batch = next;
        continue;
      }
      if (describe_take_result(session, next)) continue;
      if (session->phase == RemotePhase::kSetup && status == PGRES_TUPLES_OK) {
        int answered = 0;
        while (answered < kSetupAnswers && session->answers[answered] != nullptr) answered++;
        if (answered == kSetupAnswers) {
          PQclear(next);
          return fail(session, ERRCODE_PROTOCOL_VIOLATION, "the session set-up answered more than multidb asked");
        }
        session->answers[answered] = next;
        continue;
      }
      if (status != PGRES_COMMAND_OK) {
        const char* during = session->phase == RemotePhase::kSetup     ? "session set-up"
                             : session->phase == RemotePhase::kRollback ? "ending the remote transaction"
                                                                        : "remote SQL";
        if (session->batch != nullptr) PQclear(session->batch);
        session->batch = nullptr;
        return fail_with_result(session, next, during);
      }
      PQclear(next);
      continue;
    }

    // The current command is complete: start the next one.
    bool sent = true;
    switch (session->phase) {
      case RemotePhase::kPipeline:
        pipeline_command_done(session);
        break;
      case RemotePhase::kResetPending:
        session->query_running = false;
        session->history.reset_pending = false;
        if (!reset_pending_clean(session)) {
          // Connect anew: this connection's session kept something of the earlier call (or its reset failed).
          ereport(DEBUG1, (errmsg_internal("connection \"%s\": the kept connection was not clean; connecting anew",
                                           session->name)));
          PQfinish(session->conn);  // the descriptor's count stays with the session, for the new one
          session->conn = nullptr;
          session->reused = false;
          session->history = ConnectionHistory{};
          session->phase = RemotePhase::kIdle;
          session->reply_deadline = 0;
          return advance_once(session, result);
        }
        if (start_setup(session) == RemoteEvent::kFailed) return RemoteEvent::kFailed;
        break;
      case RemotePhase::kSetup:
        if (judge_check_answers(session, false) == RemoteEvent::kFailed) return RemoteEvent::kFailed;
        sent = session->describe_only ? describe_send_prepare(session) : send_declare(session);
        break;
      case RemotePhase::kDescribePrepare:
      case RemotePhase::kDescribe:
      case RemotePhase::kDescribePath:
      case RemotePhase::kDescribeTypes: {
        RemoteEvent event = describe_next(session, result);
        if (event != RemoteEvent::kWantRead) return event;
        break;
      }
      case RemotePhase::kRollback:  // a connection not kept
        session->query_running = false;
        remote_abandon(session);
        session->phase = RemotePhase::kDone;
        return RemoteEvent::kDone;
      case RemotePhase::kDeclare:
        sent = send_fetch(session, session->fetch_size);
        break;
      case RemotePhase::kFetch:
        return hand_over_batch(session, result);
      default:
        break;
    }
    if (!sent) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  }
}

// A warm connection that failed before the statement went out — the remote restarted or closed it while it
// was idle — is replaced once by a new one; so is one whose prepared checks were not there when executed (a pooler
// that hands each transaction another server session), and the new one sends them inline; and so is one whose session
// holds prepared statements multidb did not make (remote_pipeline.cpp: hidden code of an earlier call), and the new
// one prepares its own. A failure after that is the call's.
//
// With the pipeline, the DECLARE goes out with the rest before anything is answered; a warm connection found dead
// while no result at all came back for it (a connection failure, not a deadline given up on) is replaced all the
// same. That is safe: the server executes a pipeline's commands in order and answers each as it completes, so with no
// answer back either none of it ran, or — when the connection broke after it had run part and before the answer
// arrived — only a READ ONLY transaction that passed the gated checks did, and its rows never reached anyone.
bool worth_connecting_anew(const RemoteSession* session) {
  if (session->failure.refused || session->gave_up_waiting) return false;
  if (session->statement_sent && !(session->pipeline_sent && !session->pipeline_answered)) return false;
  int sqlstate = session->failure.sqlstate;
  if (sqlstate == ERRCODE_UNDEFINED_PSTATEMENT && session->checks_executed) return true;
  if (session->prepared_tampered) return true;
  if (!session->reused) return false;
  return ERRCODE_TO_CATEGORY(sqlstate) == ERRCODE_CONNECTION_EXCEPTION || sqlstate == ERRCODE_ADMIN_SHUTDOWN ||
         sqlstate == ERRCODE_CRASH_SHUTDOWN || sqlstate == ERRCODE_CANNOT_CONNECT_NOW;
}

}  // namespace

RemoteEvent remote_advance(RemoteSession* session, PGresult** result) {
  RemoteEvent event = advance_once(session, result);
  if (event != RemoteEvent::kFailed || !worth_connecting_anew(session)) return event;
  ereport(DEBUG1, (errmsg_internal("%s; connecting anew", session->failure.message)));
  bool prepared_ones_vanished = session->failure.sqlstate == ERRCODE_UNDEFINED_PSTATEMENT;
  session->reused = false;
  session->history = ConnectionHistory{};
  session->history.checks_inline = prepared_ones_vanished;
  memset(&session->failure, 0, sizeof(session->failure));
  session->prepared_tampered = false;
  session->statement_sent = false;
  session->pipeline_sent = false;
  session->pipeline_answered = false;
  session->rollback_answered = false;
  session->reset_clean = false;
  session->reset_failed = false;
  for (PGresult*& answer : session->answers)
    if (answer != nullptr) {
      PQclear(answer);
      answer = nullptr;
    }
  session->reply_deadline = 0;
  session->phase = RemotePhase::kIdle;
  return advance_once(session, result);
}

void remote_adopt(RemoteSession* session, PGconn* conn, ConnectionHistory history) {
  session->conn = conn;
  session->holds_external_fd = true;
  session->reused = true;
  session->history = history;
}

void remote_hold_descriptor(RemoteSession* session) { session->holds_external_fd = true; }

PGconn* remote_release(RemoteSession* session, ConnectionHistory* history) {
  if (session->phase != RemotePhase::kDone || session->conn == nullptr || session->query_running ||
      (!session->history.reset_pending && PQtransactionStatus(session->conn) != PQTRANS_IDLE))
    return nullptr;
  PGconn* conn = session->conn;
  // The receiver's argument is this session, which ends with the call: nothing may reach it from the pool.
  PQsetNoticeReceiver(conn, ignore_notice, nullptr);
  session->conn = nullptr;
  session->holds_external_fd = false;  // the descriptor's count goes with it
  *history = session->history;
  history->calls++;
  return conn;
}

int remote_socket(const RemoteSession* session) { return session->conn ? PQsocket(session->conn) : PGINVALID_SOCKET; }

long remote_timeout_ms(const RemoteSession* session) {
  TimestampTz deadline;
  if (session->phase == RemotePhase::kConnecting || session->phase == RemotePhase::kIdle)
    deadline = session->connect_deadline;
  else if (session->reply_deadline != 0 && session->phase != RemotePhase::kDone && session->phase != RemotePhase::kFailed)
    deadline = session->reply_deadline;
  else
    return -1;
  long secs;
  int usecs;
  TimestampDifference(GetCurrentTimestamp(), deadline, &secs, &usecs);
  return secs * 1000 + usecs / 1000 + 1;
}

void remote_abandon(RemoteSession* session) {
  PGresult** held[] = {&session->batch, &session->answers[0], &session->answers[1], &session->answers[2],
                       &session->pipeline_error};
  for (PGresult** result : held) {
    if (*result != nullptr) {
      PQclear(*result);
      *result = nullptr;
    }
  }
  if (session->conn != nullptr) {
    if (session->query_running) {
      // Closing the socket alone would leave a long query running on the remote until it next writes; the
      // request goes out without waiting on the remote, which may be frozen (remote_cancel.hpp).
      send_cancel_detached(session->conn, Min(session->connect_timeout_s, kCancelDeadlineS));
      session->query_running = false;
    }
    PQfinish(session->conn);
    session->conn = nullptr;
  }
  if (session->holds_external_fd) {
    ReleaseExternalFD();
    session->holds_external_fd = false;
  }
}

PGconn* remote_take_running(RemoteSession* session, int* deadline_s) {
  if (session->conn == nullptr || !session->query_running) return nullptr;
  session->query_running = false;
  *deadline_s = Min(session->connect_timeout_s, kCancelDeadlineS);
  return session->conn;
}

void report_remote_failure(const RemoteFailure* failure, int elevel) {
  ereport(elevel, (errcode(failure->sqlstate), errmsg_internal("%s", failure->message),
                   failure->detail ? errdetail_internal("%s", failure->detail) : 0,
                   failure->hint ? errhint("%s", failure->hint) : 0,
                   failure->context ? errcontext("%s", failure->context) : 0));
}

}  // namespace multidb
