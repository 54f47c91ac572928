// The single-database ask and the LLM-free paths: POST /api/query (an ask on multidb.default_connections, the
// seed's single-database endpoint), POST /api/sql (SQL a user wrote or edited, run on chosen databases by
// multidb.fanout — guarded and run remotely, never on the coordinator) and POST /api/plan (multidb.plan's dry
// run). Bind parameters only, as the caller's role.
#include <chrono>
#include <map>

#include "gateway/api_error.hpp"
#include "gateway/ask_result.hpp"
#include "gateway/ask_stream.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// A SQL text: required, a string, bounded, no NUL (the body's field "sql").
std::string sql_field(const json& body) {
  if (!body.contains("sql") || body["sql"].is_null()) throw BodyError("sql", "\"sql\" is required");
  if (!body["sql"].is_string()) throw BodyError("sql", "\"sql\" must be a string");
  std::string sql = body["sql"].get<std::string>();
  if (sql.empty()) throw BodyError("sql", "\"sql\" must not be empty");
  if (sql.size() > kMaxQuestionBytes)
    throw BodyError("sql", "\"sql\" is longer than " + std::to_string(kMaxQuestionBytes) + " bytes");
  if (sql.find('\0') != std::string::npos) throw BodyError("sql", "\"sql\" must not hold a NUL character");
  return sql;
}

const char* const kAsArray = "ARRAY(SELECT jsonb_array_elements_text($2::jsonb))";

}  // namespace

void install_query_routes(httplib::Server& server, Gateway& gateway) {
  // The seed's single-database path: neither a session nor connections, so multidb.ask uses
  // multidb.default_connections (or the caller's only usable connection).
  gateway.route(server, "POST", "/api/query", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    json body = parse_object(request.body);
    for (const char* field : {"chat_session_id", "connection_ids"})
      if (body.contains(field) && !body[field].is_null())
        throw BodyError(field, std::string("\"") + field +
                                   "\" is not taken here: POST /api/query asks on multidb.default_connections;"
                                   " use POST /api/multi-query/ to choose");
    Ask ask = parse_ask(body, false);
    return Reply{200, run_ask(gateway, caller, ask)};
  });

  gateway.route(server, "POST", "/api/sql", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    json body = parse_object(request.body);
    const std::string sql = sql_field(body);
    const std::vector<ConnectionRef> refs = parse_connections(body, "connection_ids");
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      std::vector<std::string> names = resolve_connections(tx, refs, "connection_ids");
      // A group stands for its members, in order (a connection reached twice is queried once).
      const std::string expanded = tx.query(
          "SELECT coalesce(jsonb_agg(d.distinct_name ORDER BY d.min_pos), '[]'::jsonb)::text FROM ("
          " SELECT m.name AS distinct_name, min(m.pos) AS min_pos FROM ("
          "  SELECT coalesce(c.member, n.entry) AS name, n.pos * 10000 + coalesce(c.ord, 0) AS pos"
          "  FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY n(entry, pos)"
          "  LEFT JOIN multidb.connection_groups g ON left(n.entry, 1) = '@' AND g.name = substr(n.entry, 2)"
          "  LEFT JOIN LATERAL unnest(g.connections) WITH ORDINALITY c(member, ord) ON true) m"
          " GROUP BY m.name) d", {json_array(names)}).rows.at(0).at(0).value_or("[]");
      const std::vector<std::string> databases = json::parse(expanded).get<std::vector<std::string>>();
      const auto start = std::chrono::steady_clock::now();
      // multidb.progress on: each database's done event names its columns in the statement's order.
      progress_on(tx);
      ColumnOrder order;
      Rows rows = query_observed(
          tx, (std::string("SELECT source_db, row_data::text FROM multidb.fanout($1, ") + kAsArray + ")").c_str(),
          {sql, json_array(names)},
          [&order](const std::string& name, const json& data) { note_column_order(order, name, data); });
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::map<std::string, json> per_database;
      for (const std::string& name : databases) per_database[name] = json::array();
      for (const auto& row : rows.rows)
        per_database[row[0].value_or("")].push_back(json::parse(row[1].value_or("null")));
      json results = json::array();
      for (const std::string& name : databases) {
        const json& database_rows = per_database[name];
        results.push_back({{"connection_name", name}, {"sql", sql}, {"row_count", database_rows.size()},
                           {"rows", database_rows}, {"columns", infer_columns(database_rows, order.count(name) ? order[name] : std::vector<std::string>())}, {"error", nullptr}});
      }
      answer = {{"sql", sql}, {"database_results", results}, {"row_count", rows.rows.size()},
                {"execution_time_ms", ms}};
    });
    return Reply{200, answer};
  });

  gateway.route(server, "POST", "/api/plan", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    Ask ask = parse_ask(parse_object(request.body), false);
    json answer = {{"question", ask.question}, {"chat_session_id", ask.session ? json(*ask.session) : json()},
                   {"queries", json::array()}, {"combine", nullptr}};
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::optional<std::string> connections = ask_targets(tx, ask);
      Rows rows = tx.query(
          "SELECT source_db, sql FROM multidb.plan($1, $2::uuid,"
          " CASE WHEN $3::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END)",
          {ask.question, ask.session, connections});
      for (const auto& row : rows.rows) {
        const std::string database = row[0].value_or("");
        if (database == "combined") answer["combine"] = row[1] ? json(*row[1]) : json();
        else answer["queries"].push_back({{"database", database}, {"sql", row[1] ? json(*row[1]) : json()}});
      }
    });
    return Reply{200, answer};
  });
}

}  // namespace multidb::gateway
