#include "dispatch/remote.hpp"

extern "C" {
#include "storage/fd.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

char* trimmed_libpq_message(PGconn* conn) {
  char* message = pstrdup(conn ? PQerrorMessage(conn) : "out of memory");
  size_t length = strlen(message);
  while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == ' ')) message[--length] = '\0';
  return message;
}

RemoteEvent fail(RemoteSession* session, int sqlstate, const char* message, const char* detail = nullptr,
                 const char* hint = nullptr, const char* context = nullptr) {
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
void forward_remote_notice(void* arg, const PGresult* result) {
  const RemoteSession* session = static_cast<const RemoteSession*>(arg);
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary == nullptr) return;
  int elevel = severity != nullptr && strcmp(severity, "WARNING") == 0 ? WARNING : NOTICE;
  ereport(elevel, (errmsg_internal("connection \"%s\": %s", session->name, primary)));
}

RemoteEvent start_setup(RemoteSession* session) {
  if (session->require_password && !PQconnectionUsedPassword(session->conn))
    return fail(session, ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
                "the remote server did not ask for the password",
                "Non-superusers may only connect to servers that authenticate them by password.",
                "Change the remote server's authentication method, or have a superuser set "
                "password_required 'false' on the user mapping.");
  if (PQsetnonblocking(session->conn, 1) != 0 || !PQsendQuery(session->conn, session->setup_sql))
    return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  session->phase = RemotePhase::kSetup;
  return RemoteEvent::kWantRead;  // replaced by the caller's loop reading results at once
}

RemoteEvent start_query(RemoteSession* session) {
  if (!PQsendQueryParams(session->conn, session->sql, 0, nullptr, nullptr, nullptr, nullptr, 0))
    return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
  if (!PQsetSingleRowMode(session->conn))
    return fail(session, ERRCODE_INTERNAL_ERROR, "could not switch the connection to single-row mode");
  session->phase = RemotePhase::kQuery;
  session->query_running = true;
  return RemoteEvent::kWantRead;
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

const char* remote_message(const char* name, const char* message) {
  return psprintf("connection \"%s\": %s", name, message);
}

void remote_init(RemoteSession* session, const char* name, const char* const* keywords,
                 const char* const* values, const char* setup_sql, const char* sql, bool require_password,
                 int connect_timeout_s) {
  memset(session, 0, sizeof(*session));
  session->name = name;
  session->keywords = keywords;
  session->values = values;
  session->setup_sql = setup_sql;
  session->sql = sql;
  session->require_password = require_password;
  session->connect_timeout_s = connect_timeout_s;
  session->phase = RemotePhase::kIdle;
}

RemoteEvent remote_advance(RemoteSession* session, PGresult** result) {
  *result = nullptr;
  if (session->phase == RemotePhase::kIdle) {
    // Count the socket against max_files_per_process like any file the backend opens.
    if (!AcquireExternalFD())
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
  if (session->phase != RemotePhase::kSetup && session->phase != RemotePhase::kQuery) return RemoteEvent::kDone;

  for (;;) {
    int flushed = PQflush(session->conn);
    if (flushed < 0) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
    if (flushed > 0) return RemoteEvent::kWantWrite;
    // Read from the socket only when libpq has no complete result buffered: reading more on every
    // row would grow libpq's buffer and move it on each call, quadratic in the result's size.
    if (PQisBusy(session->conn)) {
      if (!PQconsumeInput(session->conn))
        return fail(session, ERRCODE_CONNECTION_FAILURE,
                    psprintf("connection lost: %s", trimmed_libpq_message(session->conn)));
      if (PQisBusy(session->conn)) return RemoteEvent::kWantRead;
    }

    PGresult* next = PQgetResult(session->conn);
    if (session->phase == RemotePhase::kSetup) {
      if (next == nullptr) {
        start_query(session);
        if (session->phase == RemotePhase::kFailed) return RemoteEvent::kFailed;
        continue;
      }
      if (PQresultStatus(next) != PGRES_COMMAND_OK) return fail_with_result(session, next, "session set-up");
      PQclear(next);
      continue;
    }
    // RemotePhase::kQuery
    if (next == nullptr) {
      session->query_running = false;
      remote_abandon(session);
      session->phase = RemotePhase::kDone;
      return RemoteEvent::kDone;
    }
    switch (PQresultStatus(next)) {
      case PGRES_SINGLE_TUPLE:
        *result = next;
        return RemoteEvent::kRow;
      case PGRES_TUPLES_OK:
        *result = next;
        return RemoteEvent::kEndOfRows;
      case PGRES_COMMAND_OK:
        PQclear(next);
        continue;
      default:
        session->query_running = false;
        return fail_with_result(session, next, "remote SQL");
    }
  }
}

int remote_socket(const RemoteSession* session) { return session->conn ? PQsocket(session->conn) : PGINVALID_SOCKET; }

long remote_timeout_ms(const RemoteSession* session) {
  if (session->phase != RemotePhase::kConnecting && session->phase != RemotePhase::kIdle) return -1;
  long secs;
  int usecs;
  TimestampDifference(GetCurrentTimestamp(), session->connect_deadline, &secs, &usecs);
  return secs * 1000 + usecs / 1000 + 1;
}

void remote_abandon(RemoteSession* session) {
  if (session->conn != nullptr) {
    if (session->query_running) {
      // Closing the socket alone would leave a long query running on the remote until it next writes.
      PGcancel* cancel = PQgetCancel(session->conn);
      if (cancel != nullptr) {
        char ignored[256];
        PQcancel(cancel, ignored, sizeof(ignored));
        PQfreeCancel(cancel);
      }
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

void report_remote_failure(const RemoteFailure* failure, int elevel) {
  ereport(elevel, (errcode(failure->sqlstate), errmsg_internal("%s", failure->message),
                   failure->detail ? errdetail_internal("%s", failure->detail) : 0,
                   failure->hint ? errhint("%s", failure->hint) : 0,
                   failure->context ? errcontext("%s", failure->context) : 0));
}

}  // namespace multidb
