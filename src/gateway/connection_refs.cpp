// Connection ids and names of requests -> connection names.
#include "gateway/connection_refs.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include "gateway/api_error.hpp"

namespace multidb::gateway {

const char* const kConnectionsWithIds =
    "SELECT row_number() OVER (ORDER BY s.oid) AS id, c.name, c.host, c.port, c.dbname, c.description, c.owner,"
    " c.wrapper, c.usable"
    " FROM multidb.connections c JOIN pg_catalog.pg_foreign_server s ON s.srvname = c.name ORDER BY s.oid";

std::string json_array(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

std::vector<std::string> resolve_connections(RoleTransaction& tx, const std::vector<ConnectionRef>& refs,
                                             const std::string& field) {
  bool any_id = false;
  for (const ConnectionRef& ref : refs) any_id = any_id || ref.id > 0;
  std::map<long, std::string> by_id;
  if (any_id) {
    Rows rows = tx.query(kConnectionsWithIds);
    for (size_t r = 0; r < rows.rows.size(); r++) by_id[std::stol(*rows.at(r, "id"))] = *rows.at(r, "name");
  }
  std::vector<std::string> names;
  for (const ConnectionRef& ref : refs) {
    if (ref.id <= 0) {
      names.push_back(ref.name);
      continue;
    }
    auto it = by_id.find(ref.id);
    if (it == by_id.end()) {
      ApiError error(404, "connection id " + std::to_string(ref.id) + " does not exist",
                     "GET /api/connections lists the connections with their ids; names work too", "42704");
      error.field = field;
      throw error;
    }
    names.push_back(it->second);
  }
  return names;
}

std::optional<std::string> ask_targets(RoleTransaction& tx, const Ask& ask) {
  std::optional<std::string> connections;
  if (ask.connections) connections = json_array(resolve_connections(tx, *ask.connections, "connection_ids"));
  if (ask.session) {
    Rows found = tx.query("SELECT 1 FROM multidb.chat_sessions WHERE id = $1::uuid AND owner = current_user",
                          {*ask.session});
    if (found.rows.empty())
      throw ApiError(404, "chat session " + *ask.session + " does not exist", "GET /api/chat/sessions lists yours",
                     "42704");
  }
  return connections;
}

}  // namespace multidb::gateway
