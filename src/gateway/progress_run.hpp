// One coordinator statement run with libpq's async API, under a deadline, its progress NOTICEs relayed while it
// runs: a notice receiver collects `multidb progress:` NOTICEs, the loop waits on the connection's socket (poll,
// a short timeout), hands each event on as soon as it is read, and asks the caller every round whether to go on.
// When the caller says stop, the statement is cancelled (PQcancel) and the loop waits for the ERROR that ends it
// (at most 30 s); when the deadline passes, the statement is cancelled and given 2 s more. A statement that
// still has not ended has its connection dropped (the pool makes a new one; the coordinator's backend notices
// its client is gone through client_connection_check_interval). Every request's statements run here, so no
// request waits on the coordinator without a deadline (--coordinator-timeout).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "gateway/api_error.hpp"
#include "gateway/coordinator.hpp"

namespace multidb::gateway {

struct ProgressHooks {
  // Each progress event, in order, in the calling thread (none wanted: empty).
  std::function<void(const std::string& name, const nlohmann::json& data)> on_event;
  // Called at least every poll interval while the statement runs; false cancels it (empty: always go on).
  std::function<bool()> go_on;
  // When the statement must have ended: past it, ApiError 504 (57014) naming timeout_flag.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const char* timeout_flag = "--coordinator-timeout";
};

// Runs sql on conn (idle, inside the caller's transaction) and returns its rows; an ERROR (a cancelled
// statement's 57014 too) throws ApiError as RoleTransaction::query does.
Rows run_with_progress(PGconn* conn, const char* sql, const Params& params, const ProgressHooks& hooks,
                       std::chrono::milliseconds poll_interval);

// Asks the coordinator to cancel conn's statement without waiting for it: PQcancel (which waits for the
// postmaster to close its socket, forever if the coordinator is frozen) runs on a thread of its own, at most 8
// at once. Returns false when no cancel was sent (8 in flight): the caller should then drop the connection
// rather than wait (the backend notices within client_connection_check_interval and ends the statement).
bool send_cancel(PGconn* conn);

// The ApiError of a statement that outlived its deadline.
ApiError statement_timed_out(const char* timeout_flag);

}  // namespace multidb::gateway
