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

// The statement runs as a cursor read in batches of fetch_size rows: one PGresult per batch instead of
// one per row, and never the whole result in memory. Sent with the extended protocol, which takes
// exactly one statement.
bool send_declare(RemoteSession* session) {
  const char* declare = psprintf("DECLARE multidb_rows NO SCROLL CURSOR FOR %s", session->sql);
  if (!PQsendQueryParams(session->conn, declare, 0, nullptr, nullptr, nullptr, nullptr, 0)) return false;
  session->phase = RemotePhase::kDeclare;
  return true;
}

bool send_fetch(RemoteSession* session) {
  const char* fetch = psprintf("FETCH %d FROM multidb_rows", session->fetch_size);
  if (!PQsendQueryParams(session->conn, fetch, 0, nullptr, nullptr, nullptr, nullptr, 0)) return false;
  session->phase = RemotePhase::kFetch;
  session->query_running = true;
  return true;
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
                 int connect_timeout_s, int fetch_size) {
  memset(session, 0, sizeof(*session));
  session->name = name;
  session->keywords = keywords;
  session->values = values;
  session->setup_sql = setup_sql;
  session->sql = sql;
  session->require_password = require_password;
  session->connect_timeout_s = connect_timeout_s;
  session->fetch_size = fetch_size;
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
  if (session->phase == RemotePhase::kAllFetched) {
    session->query_running = false;
    remote_abandon(session);
    session->phase = RemotePhase::kDone;
  }
  if (session->phase == RemotePhase::kDone) return RemoteEvent::kDone;
  if (session->phase == RemotePhase::kFailed) return RemoteEvent::kFailed;

  for (;;) {
    int flushed = PQflush(session->conn);
    if (flushed < 0) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
    if (flushed > 0) return RemoteEvent::kWantWrite;
    // Read from the socket only when libpq has no complete result buffered: reading more each time
    // would grow libpq's buffer and move it on every call.
    if (PQisBusy(session->conn)) {
      if (!PQconsumeInput(session->conn))
        return fail(session, ERRCODE_CONNECTION_FAILURE,
                    psprintf("connection lost: %s", trimmed_libpq_message(session->conn)));
      if (PQisBusy(session->conn)) return RemoteEvent::kWantRead;
    }

    PGresult* next = PQgetResult(session->conn);
    if (next != nullptr) {
      ExecStatusType status = PQresultStatus(next);
      if (session->phase == RemotePhase::kFetch && status == PGRES_TUPLES_OK) {
        session->batch = next;
        continue;
      }
      if (status != PGRES_COMMAND_OK) {
        const char* during = session->phase == RemotePhase::kSetup ? "session set-up" : "remote SQL";
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
      case RemotePhase::kSetup:
        sent = send_declare(session);
        break;
      case RemotePhase::kDeclare:
        sent = send_fetch(session);
        break;
      case RemotePhase::kFetch: {
        PGresult* batch = session->batch;
        session->batch = nullptr;
        if (batch == nullptr) return fail(session, ERRCODE_PROTOCOL_VIOLATION, "FETCH returned no result");
        // A full batch may have more behind it: ask for the next one now, so that the remote works while
        // this one is handed on.
        if (PQntuples(batch) == session->fetch_size) {
          sent = send_fetch(session);
        } else {
          session->phase = RemotePhase::kAllFetched;
        }
        if (!sent) {
          PQclear(batch);
          break;
        }
        *result = batch;
        return RemoteEvent::kRows;
      }
      default:
        break;
    }
    if (!sent) return fail(session, ERRCODE_CONNECTION_FAILURE, trimmed_libpq_message(session->conn));
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
  if (session->batch != nullptr) {
    PQclear(session->batch);
    session->batch = nullptr;
  }
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
