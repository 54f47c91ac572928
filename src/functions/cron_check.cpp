// multidb._cron_connection_problem(): whether pg_cron could connect to run a job of the caller, tried the way
// pg_cron connects when cron.use_background_workers is off — libpq to cron.host (default localhost) on this
// server's port, as the calling role, to this database, without a password (pg_hba.conf, or a .pgpass of the
// server's OS user, must let it in; this backend runs as that OS user, so it reads the same .pgpass). NULL when
// the connection was accepted, else libpq's reason. schedule_report() refuses with it. No argument: it only
// ever reaches this server, as the caller.
#include "foundation/entry_point.hpp"

#include <libpq-fe.h>

extern "C" {
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}


namespace {

constexpr long kConnectTimeoutMs = 5000;

// Connects without blocking, so that Ctrl-C and statement_timeout stop the wait; the connection is closed at
// once, having run nothing.
const char* try_connection(PGconn* conn) {
  if (PQstatus(conn) == CONNECTION_BAD) return PQerrorMessage(conn);
  TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kConnectTimeoutMs);
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
    if (left <= 0) return "no answer within 5 s";
    int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH |
                 (status == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE);
    int rc = WaitLatchOrSocket(MyLatch, events, PQsocket(conn), left, PG_WAIT_EXTENSION);
    if (rc & WL_LATCH_SET) {
      ResetLatch(MyLatch);
      CHECK_FOR_INTERRUPTS();
    }
    if (rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)) status = PQconnectPoll(conn);
  }
  return status == PGRES_POLLING_OK ? nullptr : PQerrorMessage(conn);
}

}  // namespace

extern "C" {

MULTIDB_FUNCTION(multidb_cron_connection_problem) {
  const char* host = GetConfigOption("cron.host", true, false);
  char port[16];
  snprintf(port, sizeof(port), "%d", PostPortNumber);
  const char* keys[] = {"host", "port", "dbname", "user", "application_name", "client_encoding", nullptr};
  const char* values[] = {host && *host ? host : "localhost", port, get_database_name(MyDatabaseId),
                          GetUserNameFromId(GetUserId(), false), "multidb: can pg_cron connect?", "UTF8", nullptr};
  PGconn* conn = PQconnectStartParams(keys, values, 0);
  if (conn == nullptr) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
  char* problem = nullptr;
  PG_TRY();
  {
    const char* why = try_connection(conn);
    if (why != nullptr) {
      problem = pstrdup(why);
      size_t n = strlen(problem);  // libpq ends its messages with a newline
      while (n > 0 && (problem[n - 1] == '\n' || problem[n - 1] == ' ')) problem[--n] = '\0';
    }
  }
  PG_FINALLY();
  { PQfinish(conn); }
  PG_END_TRY();
  if (problem == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(problem));
}

}  // extern "C"
