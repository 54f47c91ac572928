// Asking over HTTP: POST /api/multi-query/ (with chat_session_id, or connection_ids for a one-off ask) and
// POST /api/chat/sessions/{id}/messages (a question in that session). Both call multidb.ask with bind
// parameters as the caller (multidb.progress on, its events naming the columns in order), then read the ask's
// history row for the SQL, counts and timings. With Accept:
// text/event-stream the ask streams its progress instead (routes_stream.cpp).
#include <chrono>

#include "gateway/api_error.hpp"
#include "gateway/ask_stream.hpp"
#include "gateway/ask_result.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/event_stream.hpp"
#include "gateway/gateway.hpp"
#include "gateway/progress_run.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// How often a statement's wait looks at its deadline (it returns at once when the result comes), as
// RoleTransaction::query's.
constexpr std::chrono::milliseconds kPlainPoll(1000);

// The caller's newest history row so far, before the ask.
const char* const kLastHistoryId =
    "SELECT coalesce(max(h.id), 0) FROM multidb.query_history h WHERE h.asked_by = current_user";

// The history row of the ask just made: the caller's newest of this question and session since the ask began
// (the history writer commits it on its own). Two identical asks of one role at the same moment may read each
// other's row; nothing else can.
const char* const kHistoryOfAsk =
    "SELECT jsonb_build_object('id', h.id, 'plan', h.plan, 'status', h.status, 'error', h.error,"
    " 'row_counts', h.row_counts, 'timings_ms', h.timings_ms, 'llm_ms', h.llm_ms, 'exec_ms', h.exec_ms,"
    " 'total_ms', h.total_ms, 'cached', h.cached)::text"
    " FROM multidb.query_history h WHERE h.asked_by = current_user AND h.question = $1"
    " AND h.session_id IS NOT DISTINCT FROM $2::uuid AND h.id > $3::bigint ORDER BY h.id DESC LIMIT 1";

}  // namespace

void progress_on(RoleTransaction& tx) {
  tx.query("SELECT pg_catalog.set_config('multidb.progress', 'on', true)");
  tx.query("SELECT pg_catalog.set_config('client_min_messages', 'notice', true)");
}

Rows query_observed(RoleTransaction& tx, const char* sql, const Params& params, const ProgressObserver& observe) {
  ProgressHooks hooks;
  hooks.on_event = observe;
  hooks.deadline = std::chrono::steady_clock::now() + tx.timeout();
  return run_with_progress(tx.connection(), sql, params, hooks, kPlainPoll);
}

json run_ask(Gateway& gateway, const Caller& caller, const Ask& ask, const AskStatement& statement) {
  json result;
  gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
    progress_on(tx);
    const std::optional<std::string> connections = ask_targets(tx, ask);
    const std::string before = tx.query(kLastHistoryId).rows.at(0).at(0).value_or("0");
    ColumnOrder order;
    Rows rows = statement(tx,
        "SELECT source_db, row_data::text FROM multidb.ask($1, $2::uuid,"
        " CASE WHEN $3::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END)",
        {ask.question, ask.session, connections},
        [&order](const std::string& name, const json& data) { note_column_order(order, name, data); });
    std::vector<TaggedRow> tagged;
    tagged.reserve(rows.rows.size());
    for (const auto& row : rows.rows) tagged.emplace_back(row[0].value_or(""), json::parse(row[1].value_or("null")));
    Rows history = tx.query(kHistoryOfAsk, {ask.question, ask.session, before});
    json history_json = history.rows.empty() ? json() : json::parse(*history.rows[0][0]);
    result = build_ask_result(ask.question, ask.session ? json(*ask.session) : json(), tagged, history_json, order);
  });
  return result;
}

json run_ask(Gateway& gateway, const Caller& caller, const Ask& ask) {
  return run_ask(gateway, caller, ask, query_observed);
}

namespace {

Reply answer_ask(Gateway& gateway, const Caller& caller, const Ask& ask, const httplib::Request& request, int status) {
  if (wants_event_stream(request.get_header_value("Accept"))) return stream_ask(gateway, caller, ask);
  return Reply{status, run_ask(gateway, caller, ask)};
}

}  // namespace

void install_ask_routes(httplib::Server& server, Gateway& gateway) {
  auto multi_query = [&gateway](const Caller& caller, const httplib::Request& request) {
    Ask ask = parse_ask(parse_object(request.body), false);
    return answer_ask(gateway, caller, ask, request, 200);
  };
  gateway.route(server, "POST", "/api/multi-query/", true, multi_query);
  gateway.route(server, "POST", "/api/multi-query", true, multi_query);
  gateway.route(server, "POST", R"(/api/chat/sessions/([^/]+)/messages)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    Ask ask = parse_ask(parse_object(request.body), true);
    const std::string id = request.matches[1];
    if (!is_uuid(id))
      throw ApiError(404, "chat session " + id + " does not exist", "GET /api/chat/sessions lists yours", "42704");
    ask.session = id;
    return answer_ask(gateway, caller, ask, request, 201);
  });
}

}  // namespace multidb::gateway
