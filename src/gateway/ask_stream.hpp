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

// Runs the statement that calls multidb.ask in the request's transaction.
using AskStatement = std::function<Rows(RoleTransaction&, const char* sql, const Params& params)>;

// The ask as the caller, answered as the seed's multi-query JSON; with progress, multidb.progress is on (SET
// LOCAL) for it.
nlohmann::json run_ask(Gateway& gateway, const Caller& caller, const Ask& ask, const AskStatement& statement,
                       bool progress);

// The same ask as a stream of Server-Sent Events: `run` (its run id), the progress events, then `result` (the
// JSON run_ask answers) or `error` (the JSON error, with its HTTP status).
Reply stream_ask(Gateway& gateway, const Caller& caller, const Ask& ask);

}  // namespace multidb::gateway
