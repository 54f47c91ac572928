// The coordinator connection pool and the per-request role transaction.
#include "gateway/coordinator.hpp"

#include <cstring>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "gateway/api_error.hpp"
#include "gateway/progress_run.hpp"
#include "gateway/status_map.hpp"

namespace multidb::gateway {

namespace {

using Clock = std::chrono::steady_clock;

// How often a plain statement's wait looks at its deadline (it returns at once when the result comes).
constexpr std::chrono::milliseconds kPlainPoll(1000);

// Waits until conn's next result can be read without blocking, at most until deadline: false if it has not
// come by then. A broken connection is "ready" (PQgetResult then reports it).
bool await_result(PGconn* conn, Clock::time_point deadline) {
  while (PQisBusy(conn)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    if (pfd.fd < 0) return true;
    const int ready = poll(&pfd, 1, static_cast<int>(std::min<long>(left, 1000)));
    if (ready < 0 && errno != EINTR) return true;
    if (ready > 0 && !PQconsumeInput(conn)) return true;
  }
  return true;
}

std::string field(const PGresult* res, int code) {
  const char* value = PQresultErrorField(res, code);
  return value ? value : "";
}

// The coordinator itself could not be used: 503.
ApiError coordinator_down(PGconn* conn) {
  std::string why = conn ? PQerrorMessage(conn) : "no connection";
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return ApiError(503, "the coordinator database does not answer", "try again shortly; the gateway reconnects by itself",
                  "08006", why);
}

// Applies the role's own settings (ALTER ROLE … SET, with and without IN DATABASE), which a login would have
// applied: the database-specific ones last, so they win. A superuser-only setting the authenticator may not
// set (without GRANT SET ON PARAMETER) is left out rather than failing every request of the role.
const char* kApplyRoleSettings =
    "SELECT count(pg_catalog.set_config(s.name, s.value, true)) FROM ("
    "  SELECT split_part(c, '=', 1) AS name, substr(c, strpos(c, '=') + 1) AS value, d.setdatabase <> 0 AS specific"
    "  FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) AS c"
    "  WHERE d.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)"
    "    AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))"
    "  ORDER BY specific) AS s"
    " WHERE CASE WHEN coalesce((SELECT context FROM pg_catalog.pg_settings p WHERE p.name = lower(s.name)), 'user')"
    "            = 'user' THEN true"
    "       ELSE pg_catalog.has_parameter_privilege(s.name, 'SET') END";

}  // namespace

const std::optional<std::string>& Rows::at(size_t row, const std::string& column) const {
  for (size_t c = 0; c < columns.size(); c++)
    if (columns[c] == column) return rows.at(row).at(c);
  throw std::out_of_range("no column " + column);
}

Rows RoleTransaction::query(const char* sql, const Params& params) {
  ProgressHooks hooks;
  hooks.deadline = std::chrono::steady_clock::now() + timeout_;
  return run_with_progress(conn_, sql, params, hooks, kPlainPoll);
}

Rows take_rows(PGconn* conn, PGresult* res) {
  if (!res || PQstatus(conn) != CONNECTION_OK) {
    if (res) PQclear(res);
    throw coordinator_down(conn);
  }
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string sqlstate = field(res, PG_DIAG_SQLSTATE), message = field(res, PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = PQresultErrorMessage(res);
    ApiError error(http_status_for(sqlstate, message), message, field(res, PG_DIAG_MESSAGE_HINT), sqlstate,
                   field(res, PG_DIAG_MESSAGE_DETAIL), database_named(message));
    error.field = spec_field_named(sqlstate, message);
    PQclear(res);
    throw error;
  }
  Rows rows;
  int ncols = PQnfields(res), nrows = PQntuples(res);
  for (int c = 0; c < ncols; c++) rows.columns.push_back(PQfname(res, c));
  rows.rows.reserve(static_cast<size_t>(nrows));
  for (int r = 0; r < nrows; r++) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < ncols; c++)
      row.push_back(PQgetisnull(res, r, c) ? std::nullopt
                                           : std::optional<std::string>(std::string(PQgetvalue(res, r, c),
                                                                                    static_cast<size_t>(PQgetlength(res, r, c)))));
    rows.rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

bool RoleTransaction::stream(const char* sql, const Params& params, const RowSink& row) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (!PQsendQueryParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0) ||
      !PQsetSingleRowMode(conn_))
    throw coordinator_down(conn_);
  bool wanted = true, timed_out = false;
  std::optional<ApiError> failure;
  std::vector<std::optional<std::string>> values_of_row;
  for (;;) {
    if (!await_result(conn_, Clock::now() + timeout_)) {
      // No row for a whole --coordinator-timeout: cancel; a coordinator that does not end the statement within
      // 2 s more has its connection dropped.
      timed_out = true;
      send_cancel(conn_);
      if (!await_result(conn_, Clock::now() + std::chrono::seconds(2))) {
        shutdown(PQsocket(conn_), SHUT_RDWR);
        PQconsumeInput(conn_);
        throw statement_timed_out("--coordinator-timeout");
      }
    }
    PGresult* res = PQgetResult(conn_);
    if (!res) break;
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_SINGLE_TUPLE && wanted) {
      values_of_row.clear();
      for (int c = 0; c < PQnfields(res); c++)
        values_of_row.push_back(PQgetisnull(res, 0, c) ? std::nullopt
                                                       : std::optional<std::string>(std::string(
                                                             PQgetvalue(res, 0, c), static_cast<size_t>(PQgetlength(res, 0, c)))));
      if (!row(values_of_row)) {
        wanted = false;
        // The reader left: cancel the statement on the coordinator (and, through it, its remote statements),
        // then read what is left of its results.
        send_cancel(conn_);
      }
    } else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && wanted &&
               !failure) {
      std::string sqlstate = field(res, PG_DIAG_SQLSTATE), message = field(res, PG_DIAG_MESSAGE_PRIMARY);
      if (message.empty()) message = PQresultErrorMessage(res);
      failure.emplace(http_status_for(sqlstate, message), message, field(res, PG_DIAG_MESSAGE_HINT), sqlstate,
                      field(res, PG_DIAG_MESSAGE_DETAIL), database_named(message));
      failure->field = spec_field_named(sqlstate, message);
    }
    PQclear(res);
  }
  if (timed_out && wanted) throw statement_timed_out("--coordinator-timeout");
  if (PQstatus(conn_) != CONNECTION_OK) throw coordinator_down(conn_);
  if (failure) throw *failure;
  return wanted;
}

Coordinator::Coordinator(std::string conninfo, int size, std::chrono::milliseconds wait, long connect_timeout_s,
                         std::chrono::milliseconds statement_timeout)
    : conninfo_(std::move(conninfo)), wait_(wait), connect_timeout_s_(connect_timeout_s),
      statement_timeout_(statement_timeout), idle_(static_cast<size_t>(size), nullptr) {}

Coordinator::~Coordinator() {
  for (PGconn* conn : idle_)
    if (conn) PQfinish(conn);
}

PGconn* Coordinator::acquire() {
  PGconn* conn = nullptr;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!available_.wait_for(lock, wait_, [this] { return !idle_.empty(); }))
      throw ApiError(504, "every coordinator connection is busy", "try again, or start the gateway with a larger --pool-size",
                     "57014");
    conn = idle_.back();
    idle_.pop_back();
  }
  // A connection lost while idle (a coordinator restart: the server's goodbye and EOF are waiting on the
  // socket; libpq's socket never blocks) is made anew before use.
  if (conn && (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)) {
    PQfinish(conn);
    conn = nullptr;
  }
  if (!conn) {
    const std::string timeout = std::to_string(connect_timeout_s_);
    const char* keys[] = {"dbname", "fallback_application_name", "connect_timeout", nullptr};
    const char* values[] = {conninfo_.c_str(), "multidb-web", timeout.c_str(), nullptr};
    conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
      ApiError error = coordinator_down(conn);
      if (conn) PQfinish(conn);
      release(nullptr);
      throw error;
    }
    // A backend whose gateway went away (killed, or dropped the connection at a deadline) notices it within a
    // second even while its statement runs, and ends the statement and its transaction.
    try {
      RoleTransaction(conn, statement_timeout_).query("SET client_connection_check_interval = '1s'");
    } catch (const ApiError&) {
      PQfinish(conn);
      release(nullptr);
      throw;
    }
  }
  return conn;
}

void Coordinator::release(PGconn* conn) {
  // A connection left inside a transaction or broken is not reused.
  if (conn && (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)) {
    PQfinish(conn);
    conn = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(conn);
  }
  available_.notify_one();
}

// A request that failed inside its transaction: the transaction is rolled back, so that the connection can
// go back to the pool (release() drops one that is still in a transaction or broken).
void Coordinator::roll_back_and_release(PGconn* conn) {
  if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
    try {
      RoleTransaction(conn, statement_timeout_).query("ROLLBACK");
    } catch (const ApiError&) {
      // Not rolled back (a timeout, a lost coordinator): release() drops the connection.
    }
  }
  release(conn);
}

// A pooled connection that the coordinator ended while it was idle (a restart) may look fine until used: when
// the first statement of a request finds it broken, nothing has run yet, so the request gets a new connection
// once instead of a 503.
PGconn* Coordinator::acquire_begun(const char* first, const Params& params) {
  for (int attempt = 0;; attempt++) {
    PGconn* conn = acquire();
    RoleTransaction tx(conn, statement_timeout_);
    try {
      tx.query(first, params);
      return conn;
    } catch (const ApiError& e) {
      // (Not a connection dropped at its deadline: a coordinator that does not answer is not asked again.)
      const bool lost = PQstatus(conn) != CONNECTION_OK && e.status != 504;
      roll_back_and_release(conn);
      if (!(lost && attempt == 0)) throw;
    }
  }
}

void Coordinator::as_role(const std::string& role, const std::function<void(RoleTransaction&)>& work) {
  PGconn* conn = acquire_begun("BEGIN", {});
  RoleTransaction tx(conn, statement_timeout_);
  try {
    // SET LOCAL ROLE: ends with the transaction, whatever happens in it.
    tx.query("SELECT pg_catalog.set_config('role', $1, true)", {role});
    tx.query(kApplyRoleSettings, {role});
    work(tx);
    tx.query("COMMIT");
  } catch (...) {
    roll_back_and_release(conn);
    throw;
  }
  release(conn);
}

void Coordinator::as_authenticator(const std::function<void(RoleTransaction&)>& work, bool writes) {
  // The authenticator's own statements (sign-in checks, the sign-in table, health): in a transaction of their own,
  // bounded on the server by --pool-timeout as well as by the request's deadline here.
  PGconn* conn = acquire_begun(writes ? "BEGIN" : "BEGIN READ ONLY", {});
  RoleTransaction tx(conn, statement_timeout_);
  try {
    tx.query("SELECT pg_catalog.set_config('statement_timeout', $1, true)", {std::to_string(wait_.count())});
    work(tx);
    tx.query("COMMIT");
  } catch (...) {
    roll_back_and_release(conn);
    throw;
  }
  release(conn);
}

bool Coordinator::healthy() {
  try {
    as_authenticator([](RoleTransaction& tx) { tx.query("SELECT 1"); });
    return true;
  } catch (const ApiError&) {
    return false;
  }
}

std::string Coordinator::check_authenticator() {
  std::string why;
  try {
    as_authenticator([&why](RoleTransaction& tx) {
      Rows r = tx.query(
          "SELECT current_user AS role, rolsuper, rolinherit, rolbypassrls, rolcanlogin,"
          " (SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'multidb') AS multidb"
          " FROM pg_catalog.pg_roles WHERE rolname = current_user");
      const std::string role = *r.at(0, "role");
      if (*r.at(0, "rolsuper") == "t")
        why = "the authenticator role \"" + role + "\" is a superuser: refusing to run (a superuser ignores row-level "
              "security and may become any role). Log in as a role made with CREATE ROLE authenticator LOGIN "
              "NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD '...', then GRANT each role that signs in (a member of "
              "multidb_web) TO authenticator";
      else if (*r.at(0, "rolbypassrls") == "t")
        why = "the authenticator role \"" + role + "\" has BYPASSRLS: refusing to run (every role would see every "
              "role's sessions and history). ALTER ROLE " + role + " NOBYPASSRLS";
      else if (*r.at(0, "rolinherit") == "t")
        why = "the authenticator role \"" + role + "\" inherits the privileges of the roles granted to it: refusing "
              "to run (a request would hold every signed-in role's rights at once). ALTER ROLE " + role + " NOINHERIT";
      else if (*r.at(0, "multidb") == "0")
        why = "the database of --database has no multidb extension: CREATE EXTENSION multidb there, or point "
              "--database at the database that has it";
      if (!why.empty()) return;
      // Browser sign-ins live in multidb's table, reached only through three functions the set-up grants to the
      // authenticator (docs/security.md).
      r = tx.query(
          "SELECT pg_catalog.quote_ident(current_user) AS who, count(*) FILTER (WHERE p IS NULL) AS missing,"
          " count(*) FILTER (WHERE p IS NOT NULL AND NOT pg_catalog.has_function_privilege(p, 'EXECUTE')) AS denied"
          " FROM unnest(ARRAY['multidb.open_web_sign_in(bytea,name,integer)', 'multidb.web_sign_in_role(bytea)',"
          "                   'multidb.end_web_sign_in(bytea)']) f, pg_catalog.to_regprocedure(f) p");
      if (*r.at(0, "missing") != "0")
        why = "the multidb extension of --database is older than 0.8 (it has no browser sign-in functions): "
              "ALTER EXTENSION multidb UPDATE there";
      else if (*r.at(0, "denied") != "0")
        why = "the authenticator role \"" + role + "\" may not run multidb's browser sign-in functions: GRANT "
              "EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO " +
              *r.at(0, "who") + " (as the extension's owner or a superuser)";
    });
  } catch (const ApiError& e) {
    return std::string("cannot connect to the coordinator (--database): ") + e.what() + ": " + e.detail;
  }
  return why;
}

}  // namespace multidb::gateway
