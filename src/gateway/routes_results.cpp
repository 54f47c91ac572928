// GET /api/chat/sessions/{id}/messages/{message}/results?database=&format=csv|json: the rows of a message's
// ask, run again from its stored plan (multidb.run_plan, or with ?database= that database's statement through
// multidb.fanout), streamed to the client as they arrive: libpq's single-row mode on the coordinator, a chunked
// response, a bounded buffer in between, so the gateway's memory does not grow with the result. A reader who
// leaves cancels the statement. Another role's message is 404.
#include <iostream>
#include <memory>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

constexpr size_t kFlushBytes = 64 * 1024;

const char* const kMessagePlan =
    "SELECT h.plan::text FROM multidb.chat_messages m"
    " JOIN multidb.chat_sessions s ON s.id = m.session_id AND s.owner = current_user"
    " LEFT JOIN multidb.query_history h ON h.id = m.query_id"
    " WHERE m.session_id = $1::uuid AND m.id = $2::bigint";

// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_value(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return csv_field(value.get<std::string>());
  return csv_field(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

// What the stream needs once the response has begun.
struct Export {
  std::string role;
  std::string sql;                      // the statement for the coordinator (fixed text)
  Params params;
  bool csv = false;
};

// Writes the rows of export to sink; false when the reader left or the statement failed midway (the response
// then ends without its last chunk, so the client sees it incomplete).
bool stream_rows(Gateway& gateway, const Export& out, httplib::DataSink& sink) {
  std::string buffer;
  std::vector<std::string> header;  // CSV: the first row's keys
  bool first = true, ok = true;
  auto flush = [&]() {
    if (buffer.empty()) return true;
    bool written = sink.write(buffer.data(), buffer.size());
    buffer.clear();
    return written;
  };
  try {
    gateway.db().as_role(out.role, [&](RoleTransaction& tx) {
      if (!out.csv) buffer += "[";
      ok = tx.stream(out.sql.c_str(), out.params, [&](const std::vector<std::optional<std::string>>& row) {
        const std::string database = row.at(0).value_or("");
        json data = json::parse(row.at(1).value_or("null"));
        if (out.csv) {
          if (first) {
            buffer += "source_db";
            if (data.is_object())
              for (const auto& item : data.items()) {
                header.push_back(item.key());
                buffer += "," + csv_field(item.key());
              }
            buffer += "\r\n";
          }
          buffer += csv_field(database);
          for (const std::string& key : header) buffer += "," + (data.contains(key) ? csv_value(data[key]) : "");
          buffer += "\r\n";
        } else {
          if (!first) buffer += ",";
          buffer += json{{"database", database}, {"row", data}}.dump(-1, ' ', false, json::error_handler_t::replace);
          buffer += "\n";
        }
        first = false;
        return buffer.size() < kFlushBytes || flush();
      });
    });
  } catch (const std::exception& e) {
    std::cerr << "multidb-web: results export ended early: " << e.what() << "\n";
    return false;
  }
  if (!ok) return false;
  if (out.csv && first) buffer += "source_db\r\n";
  if (!out.csv) buffer += "]\n";
  if (!flush()) return false;
  sink.done();
  return true;
}

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
          out->sql = "SELECT source_db, row_data::text FROM multidb.run_plan($1::jsonb)";
          out->params = {*found.rows[0][0]};
          return;
        }
        for (const json& query : plan.value("queries", json::array()))
          if (query.is_object() && query.value("database", "") == *database && query.contains("sql")) {
            out->sql = "SELECT source_db, row_data::text FROM multidb.fanout($1, ARRAY[$2])";
            out->params = {query["sql"].get<std::string>(), *database};
            return;
          }
        throw ApiError(404, "message " + message + " ran nothing on database \"" + *database + "\"",
                       "its plan's databases: GET /api/history", "42704", "", *database);
      });
      if (out->csv)
        response.set_header("Content-Disposition", "attachment; filename=\"message-" + message + ".csv\"");
      response.set_chunked_content_provider(out->csv ? "text/csv; charset=utf-8" : "application/json",
                                            [&gateway, out](size_t, httplib::DataSink& sink) {
        return stream_rows(gateway, *out, sink);
      });
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
