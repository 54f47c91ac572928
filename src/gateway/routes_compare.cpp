// Comparing two databases over HTTP: POST /api/compare (multidb.compare: the same read-only statement on a and
// b, only the rows that differ) and GET /api/schema-diff?a=&b= (multidb.schema_diff: the objects that exist on
// one side only or are defined differently). run_compare (compare_run.hpp) is also a compare-mode query spec's.
#include "gateway/api_error.hpp"
#include "gateway/compare_run.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// One connection named by a body field or query parameter (a name or an id), resolved to its name.
std::string one_connection(RoleTransaction& tx, const json& value, const char* field) {
  json holder = {{field, json::array({value})}};
  return resolve_connections(tx, parse_connections(holder, field), field).at(0);
}

json connection_value(const json& body, const char* field) {
  if (!body.contains(field) || body[field].is_null())
    throw BodyError(field, std::string("\"") + field + "\" is required: a connection's name or id");
  return body[field];
}

}  // namespace

json run_compare(RoleTransaction& tx, const std::string& sql, const std::string& a, const std::string& b,
                 const std::optional<std::string>& key, const std::string& columns) {
  Rows rows = tx.query(
      "SELECT coalesce(jsonb_agg(jsonb_build_object('status', c.status, 'key', c.key, 'a_row', c.a_row,"
      " 'b_row', c.b_row)), '[]'::jsonb)::text FROM multidb.compare($1, $2, $3,"
      " CASE WHEN $4::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($4::jsonb)) END, $5) c",
      {sql, a, b, key, columns});
  json differences = json::parse(rows.rows.at(0).at(0).value_or("[]"));
  return {{"sql", sql}, {"a", a}, {"b", b}, {"count", differences.size()}, {"differences", differences}};
}

void install_compare_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "POST", "/api/compare", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    json body = parse_object(request.body);
    if (!body.contains("sql") || !body["sql"].is_string() || body["sql"].get<std::string>().empty())
      throw BodyError("sql", "\"sql\" is required: the statement to run on both sides");
    const std::string sql = body["sql"].get<std::string>();
    if (sql.size() > kMaxQuestionBytes || sql.find('\0') != std::string::npos)
      throw BodyError("sql", "\"sql\" is too long or holds a NUL character");
    const json a = connection_value(body, "a"), b = connection_value(body, "b");
    std::optional<std::string> key;
    if (body.contains("key") && !body["key"].is_null()) {
      const json& k = body["key"];
      if (!k.is_array() || k.empty() || k.size() > 64)
        throw BodyError("key", "\"key\" must be an array of 1 to 64 column names");
      for (const json& column : k)
        if (!column.is_string() || column.get<std::string>().empty() || column.get<std::string>().size() > 63)
          throw BodyError("key", "\"key\" must hold column names");
      key = k.dump();
    }
    std::string columns = "same";
    if (body.contains("columns") && !body["columns"].is_null()) {
      if (!body["columns"].is_string() || (body["columns"] != "same" && body["columns"] != "common"))
        throw BodyError("columns", "\"columns\" must be \"same\" or \"common\"");
      columns = body["columns"].get<std::string>();
    }
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::string side_a = one_connection(tx, a, "a"), side_b = one_connection(tx, b, "b");
      answer = run_compare(tx, sql, side_a, side_b, key, columns);
    });
    return Reply{200, answer};
  });
  gateway.route(server, "GET", "/api/schema-diff", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    for (const char* side : {"a", "b"})
      if (!request.has_param(side) || request.get_param_value(side).empty())
        throw BodyError(side, std::string("?") + side + " is required: a connection's name or id");
    const std::string refresh = request.get_param_value("refresh") == "true" ? "true" : "false";
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::string side_a = one_connection(tx, request.get_param_value("a"), "a");
      const std::string side_b = one_connection(tx, request.get_param_value("b"), "b");
      Rows rows = tx.query(
          "SELECT coalesce(jsonb_agg(jsonb_build_object('object_kind', d.object_kind, 'object_name', d.object_name,"
          " 'difference', d.difference, 'a_definition', d.a_definition, 'b_definition', d.b_definition)),"
          " '[]'::jsonb)::text FROM multidb.schema_diff($1, $2, $3::boolean) d",
          {side_a, side_b, refresh});
      json differences = json::parse(rows.rows.at(0).at(0).value_or("[]"));
      answer = {{"a", side_a}, {"b", side_b}, {"count", differences.size()}, {"differences", differences}};
    });
    return Reply{200, answer};
  });
}

}  // namespace multidb::gateway
