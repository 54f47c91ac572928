// The pool of coordinator connections, logged in as the authenticator role, and the one way a request uses
// one: a transaction in which the authenticator becomes the caller's role (SET LOCAL ROLE through
// set_config, then the role's own settings from pg_db_role_setting), runs multidb's functions with bind
// parameters only, and commits. Every statement runs under --coordinator-timeout (progress_run.*): past it,
// 504 and the connection dropped. A lost coordinator is 503 and the connection is re-established later; an
// ERROR becomes an ApiError with its SQLSTATE, DETAIL, HINT and the database it names. Each connection sets
// client_connection_check_interval, so its backend ends a statement whose gateway has gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

namespace multidb::gateway {

// One statement's result: rows of text values (nullopt for NULL) and the column names.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  const std::optional<std::string>& at(size_t row, const std::string& column) const;
};

using Params = std::vector<std::optional<std::string>>;

// A connection inside a request's transaction, already acting as the caller's role.
class RoleTransaction {
 public:
  RoleTransaction(PGconn* conn, std::chrono::milliseconds timeout) : conn_(conn), timeout_(timeout) {}
  // A fixed statement with text parameters (libpq's async API, progress_run.*); an ERROR throws ApiError, one
  // that runs longer than the timeout is cancelled and throws ApiError 504.
  Rows query(const char* sql, const Params& params = {});
  // Runs a fixed statement in libpq's single-row mode, handing each row to row as it arrives (nothing is
  // gathered here). When row returns false (the reader left), the statement is cancelled and stream returns
  // false. An ERROR before the first row or after throws ApiError, as query does; a wait of more than the
  // timeout for the next row cancels it and throws ApiError 504.
  using RowSink = std::function<bool(const std::vector<std::optional<std::string>>&)>;
  bool stream(const char* sql, const Params& params, const RowSink& row);
  // The connection itself, for a statement run with libpq's async API (progress_run.*).
  PGconn* connection() { return conn_; }
  // The longest any one statement may take (--coordinator-timeout).
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  PGconn* conn_;
  std::chrono::milliseconds timeout_;
};

// A statement's result (taken over and cleared) as Rows; an ERROR throws ApiError, a lost connection 503.
Rows take_rows(PGconn* conn, PGresult* res);

class Coordinator {
 public:
  // statement_timeout: the longest any one statement of a request may take (--coordinator-timeout).
  Coordinator(std::string conninfo, int size, std::chrono::milliseconds wait, long connect_timeout_s,
              std::chrono::milliseconds statement_timeout);
  ~Coordinator();

  // Connects once and checks the authenticator: LOGIN, NOINHERIT, not superuser, not BYPASSRLS, the extension
  // there. Returns "" when fit, else why not (the program refuses to start).
  std::string check_authenticator();

  // Runs work as role in one transaction (rolled back if work throws).
  void as_role(const std::string& role, const std::function<void(RoleTransaction&)>& work);
  // Runs work as the authenticator itself, outside any role (sign-in checks, the sign-in table, health): in a
  // transaction of its own, read-only unless writes, whose statements are cancelled after the pool's wait (--pool-
  // timeout, a 504) so that a coordinator that holds them (a lock on the sign-in table) cannot hold the request.
  void as_authenticator(const std::function<void(RoleTransaction&)>& work, bool writes = false);
  bool healthy();
  const std::string& conninfo() const { return conninfo_; }

 private:
  PGconn* acquire();
  PGconn* acquire_begun(const char* first, const Params& params);
  void release(PGconn* conn);
  void roll_back_and_release(PGconn* conn);
  std::string conninfo_;
  std::chrono::milliseconds wait_;
  long connect_timeout_s_;
  std::chrono::milliseconds statement_timeout_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<PGconn*> idle_;  // nullptr: a slot whose connection is to be (re)made
};

}  // namespace multidb::gateway
