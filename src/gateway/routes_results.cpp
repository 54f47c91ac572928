// GET /api/chat/sessions/{id}/messages/{message}/results?database=&format=csv|json&offset=&limit=: the rows of a
// message's ask (or one page of them), run again from its stored plan (multidb.run_plan, or with ?database= that
// database's statement through multidb.fanout), streamed to the client as they arrive: libpq's single-row mode on the coordinator, a chunked
// response, a bounded buffer in between, so the gateway's memory does not grow with the result. A reader who
// leaves cancels the statement. Another role's message is 404.
#include <memory>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"
#include "gateway/row_export.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// A page of the rows (both NULL: all of them). The plan runs whole on the coordinator (multidb.run_plan and
// multidb.fanout gather their rows before returning any); the page only bounds what is sent.
const char* const kPageClause = " OFFSET $2::bigint LIMIT $3::bigint";
std::optional<std::string> page_offset(const std::optional<Page>& page) {
  return page ? std::optional<std::string>(std::to_string(page->offset)) : std::nullopt;
}
std::optional<std::string> page_limit(const std::optional<Page>& page) {
  return page ? std::optional<std::string>(std::to_string(page->limit)) : std::nullopt;
}

const char* const kMessagePlan =
    "SELECT h.plan::text FROM multidb.chat_messages m"
    " JOIN multidb.chat_sessions s ON s.id = m.session_id AND s.owner = current_user"
    " LEFT JOIN multidb.query_history h ON h.id = m.query_id"
    " WHERE m.session_id = $1::uuid AND m.id = $2::bigint";

}  // namespace

void install_result_routes(httplib::Server& server, Gateway& gateway) {
  gateway.raw_route(server, "GET", R"(/api/chat/sessions/([^/]+)/messages/([^/]+)/results)",
                    [&gateway](const httplib::Request& request, httplib::Response& response) {
    try {
      Caller caller = gateway.authenticate(request);
      const std::string session = request.matches[1], message = request.matches[2];
      const std::string format = request.has_param("format") ? request.get_param_value("format") : "json";
      if (format != "csv" && format != "json") throw BodyError("format", "?format must be csv or json");
      std::optional<std::string> database;
      if (request.has_param("database")) {
        database = request.get_param_value("database");
        if (database->empty() || database->size() > kMaxNameBytes)
          throw BodyError("database", "?database must name one database of the message's plan");
      }
      auto not_found = [&]() {
        return ApiError(404, "message " + message + " of chat session " + session + " does not exist",
                        "GET /api/chat/sessions/{id}/messages lists the session's messages", "42704");
      };
      if (!is_uuid(session) || message.empty() || message.size() > 18 ||
          message.find_first_not_of("0123456789") != std::string::npos)
        throw not_found();
      std::optional<std::string> offset_text, limit_text;
      if (request.has_param("offset")) offset_text = request.get_param_value("offset");
      if (request.has_param("limit")) limit_text = request.get_param_value("limit");
      const std::optional<Page> page = parse_page(offset_text, limit_text);
      auto out = std::make_shared<Export>();
      out->role = caller.role;
      out->csv = format == "csv";
      gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
        Rows found = tx.query(kMessagePlan, {session, message});
        if (found.rows.empty()) throw not_found();
        if (!found.rows[0][0])
          throw ApiError(404, "message " + message + " has no results: no plan was run for it",
                         "only a message of an answered ask has results", "42704");
        json plan = json::parse(*found.rows[0][0]);
        if (!database) {
          out->sql = std::string("SELECT source_db, row_data::text FROM multidb.run_plan($1::jsonb)") + kPageClause;
          out->params = {*found.rows[0][0], page_offset(page), page_limit(page)};
          return;
        }
        for (const json& query : plan.value("queries", json::array()))
          if (query.is_object() && query.value("database", "") == *database && query.contains("sql")) {
            out->sql = std::string("SELECT source_db, row_data::text FROM multidb.fanout($1, ARRAY[$2])") +
                       " OFFSET $3::bigint LIMIT $4::bigint";
            out->params = {query["sql"].get<std::string>(), *database, page_offset(page), page_limit(page)};
            return;
          }
        throw ApiError(404, "message " + message + " ran nothing on database \"" + *database + "\"",
                       "its plan's databases: GET /api/history", "42704", "", *database);
      });
      start_export(response, gateway, out, "message-" + message + ".csv");
    } catch (const ApiError& e) {
      write_error(response, e.status, e.body());
    } catch (const BodyError& e) {
      ApiError error(400, e.what(), "see the endpoint's parameters in docs/reference.md");
      error.field = e.field();
      write_error(response, 400, error.body());
    }
  });
}

}  // namespace multidb::gateway
