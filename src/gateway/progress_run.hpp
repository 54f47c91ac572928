// One statement run with libpq's async API so that its progress NOTICEs are relayed while it runs: a notice
// receiver collects `multidb progress:` NOTICEs, the loop waits on the connection's socket (poll, a short
// timeout), hands each event on as soon as it is read, and asks the caller every round whether to go on; when
// not, it cancels the statement (PQcancel) and waits for the ERROR that ends it (at most 30 s, then the
// connection is dropped and the caller gets 503).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "gateway/coordinator.hpp"

namespace multidb::gateway {

struct ProgressHooks {
  // Each progress event, in order, in the calling thread.
  std::function<void(const std::string& name, const nlohmann::json& data)> on_event;
  // Called at least every poll interval while the statement runs; false cancels it.
  std::function<bool()> go_on;
};

// Runs sql on conn (idle, inside the caller's transaction) and returns its rows; an ERROR (a cancelled
// statement's 57014 too) throws ApiError as RoleTransaction::query does.
Rows run_with_progress(PGconn* conn, const char* sql, const Params& params, const ProgressHooks& hooks,
                       std::chrono::milliseconds poll_interval);

}  // namespace multidb::gateway
