// Asking over HTTP with live progress: the ask itself (routes_ask.cpp, with the statement that calls
// multidb.ask passed in, so a stream can run it asynchronously) and the stream that relays its progress as
// Server-Sent Events (routes_stream.cpp, which also has DELETE /api/runs/{id}).
#pragma once

#include <functional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gateway/coordinator.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

// Each progress event of a statement, in order.
using ProgressObserver = std::function<void(const std::string& name, const nlohmann::json& data)>;

// Runs the statement that calls multidb.ask in the request's transaction, handing its progress events to
// observe.
using AskStatement =
    std::function<Rows(RoleTransaction&, const char* sql, const Params& params, const ProgressObserver& observe)>;

// The ask as the caller, answered as the seed's multi-query JSON. multidb.progress is on (SET LOCAL) for it
// whether or not the caller streams: its done and combine events name the columns in the statement's order.
nlohmann::json run_ask(Gateway& gateway, const Caller& caller, const Ask& ask, const AskStatement& statement);

// A statement run as RoleTransaction::query runs it, its progress events handed to observe.
Rows query_observed(RoleTransaction& tx, const char* sql, const Params& params, const ProgressObserver& observe);

// SET LOCAL multidb.progress = on (and client_min_messages = notice, so that its NOTICEs come) in tx.
void progress_on(RoleTransaction& tx);

// The same ask as a stream of Server-Sent Events: `run` (its run id), the progress events, then `result` (the
// JSON run_ask answers) or `error` (the JSON error, with its HTTP status).
Reply stream_ask(Gateway& gateway, const Caller& caller, const Ask& ask);

}  // namespace multidb::gateway
