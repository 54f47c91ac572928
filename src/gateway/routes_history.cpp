// GET /api/history: the caller's asks from multidb.query_history, newest first (row-level security shows a
// role only its own), paged with ?limit= (1–500, default 50) and ?before= (a history id), and narrowed to one
// chat session with ?chat_session_id=.
#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

const char* const kHistory =
    "SELECT coalesce(jsonb_agg(x ORDER BY x.id DESC), '[]'::jsonb)::text FROM ("
    " SELECT h.id, h.session_id AS chat_session_id, h.question, h.status, h.error, h.plan, h.databases_used,"
    " h.row_counts, h.timings_ms, h.llm_ms, h.exec_ms, h.total_ms, h.cached, h.model, h.prompt_tokens,"
    " h.completion_tokens, h.created_at"
    " FROM multidb.query_history h WHERE h.asked_by = current_user"
    " AND ($2::bigint IS NULL OR h.id < $2::bigint) AND ($3::uuid IS NULL OR h.session_id = $3::uuid)"
    " ORDER BY h.id DESC LIMIT $1::integer) x";

// A whole number in [low, high] from a query parameter, or a 400 naming it.
long number_param(const httplib::Request& request, const char* name, long low, long high, long fallback) {
  if (!request.has_param(name)) return fallback;
  const std::string text = request.get_param_value(name);
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw BodyError(name, std::string("?") + name + " must be a whole number");
  long value = std::stol(text);
  if (value < low || value > high)
    throw BodyError(name, std::string("?") + name + " must be between " + std::to_string(low) + " and " +
                              std::to_string(high));
  return value;
}

}  // namespace

void install_history_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/history", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    const long limit = number_param(request, "limit", 1, 500, 50);
    std::optional<std::string> before, session;
    if (request.has_param("before"))
      before = std::to_string(number_param(request, "before", 1, 999999999999999999L, 0));
    if (request.has_param("chat_session_id")) {
      session = request.get_param_value("chat_session_id");
      if (!is_uuid(*session)) throw BodyError("chat_session_id", "?chat_session_id must be a session id (a uuid)");
    }
    json list;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      Rows rows = tx.query(kHistory, {std::to_string(limit), before, session});
      list = json::parse(rows.rows.at(0).at(0).value_or("[]"));
    });
    return Reply{200, list};
  });
}

}  // namespace multidb::gateway
