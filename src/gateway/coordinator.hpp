// The pool of coordinator connections, logged in as the authenticator role, and the one way a request uses
// one: a transaction in which the authenticator becomes the caller's role (SET LOCAL ROLE through
// set_config, then the role's own settings from pg_db_role_setting), runs multidb's functions with bind
// parameters only, and commits. A lost coordinator is 503 and the connection is re-established later; an
// ERROR becomes an ApiError with its SQLSTATE, DETAIL, HINT and the database it names.
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
  explicit RoleTransaction(PGconn* conn) : conn_(conn) {}
  // PQexecParams of a fixed statement with text parameters; an ERROR throws ApiError.
  Rows query(const char* sql, const Params& params = {});
  // PQexec of fixed text without parameters (it may hold several statements); an ERROR throws ApiError.
  void command(const std::string& sql);
  // Runs a fixed statement in libpq's single-row mode, handing each row to row as it arrives (nothing is
  // gathered here). When row returns false (the reader left), the statement is cancelled and stream returns
  // false. An ERROR before the first row or after throws ApiError, as query does.
  using RowSink = std::function<bool(const std::vector<std::optional<std::string>>&)>;
  bool stream(const char* sql, const Params& params, const RowSink& row);
  // The connection itself, for a statement run with libpq's async API (progress_run.*).
  PGconn* connection() { return conn_; }

 private:
  PGconn* conn_;
};

// A statement's result (taken over and cleared) as Rows; an ERROR throws ApiError, a lost connection 503.
Rows take_rows(PGconn* conn, PGresult* res);

class Coordinator {
 public:
  Coordinator(std::string conninfo, int size, std::chrono::milliseconds wait, long connect_timeout_s);
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
  PGconn* acquire_begun(const std::string& first);
  void release(PGconn* conn);
  void roll_back_and_release(PGconn* conn);
  std::string conninfo_;
  std::chrono::milliseconds wait_;
  long connect_timeout_s_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<PGconn*> idle_;  // nullptr: a slot whose connection is to be (re)made
};

}  // namespace multidb::gateway
