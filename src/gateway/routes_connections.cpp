// GET /api/connections (every connection with its id, never a password) and
// GET /api/connections/{name}/schema (its tables, columns and other objects, from multidb's schema cache).
#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"

namespace multidb::gateway {

using nlohmann::json;

void install_connection_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/connections", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json list = json::array();
    gateway.db().as_role(caller.role, [&list](RoleTransaction& tx) {
      Rows rows = tx.query(kConnectionsWithIds);
      for (size_t r = 0; r < rows.rows.size(); r++) {
        auto text = [&](const char* column) {
          const auto& value = rows.at(r, column);
          return value ? json(*value) : json();
        };
        const auto& port = rows.at(r, "port");
        json port_value = port ? json(*port) : json();
        if (port && !port->empty() && port->find_first_not_of("0123456789") == std::string::npos && port->size() < 6)
          port_value = std::stoi(*port);
        list.push_back({{"id", std::stol(*rows.at(r, "id"))}, {"name", text("name")}, {"host", text("host")},
                        {"port", port_value}, {"dbname", text("dbname")}, {"description", text("description")},
                        {"owner", text("owner")}, {"wrapper", text("wrapper")},
                        {"usable", rows.at(r, "usable") == std::optional<std::string>("t")}});
      }
    });
    return Reply{200, list};
  });
  gateway.route(server, "GET", R"(/api/connections/([^/]+)/schema)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = request.matches[1];
    json body = {{"connection", name}};
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      std::vector<ConnectionRef> refs(1);
      if (!name.empty() && name.size() < 8 && name.find_first_not_of("0123456789") == std::string::npos && name[0] != '0')
        refs[0].id = std::stol(name);
      else
        refs[0].name = name;
      const std::string resolved = resolve_connections(tx, refs, "name").at(0);
      body["connection"] = resolved;
      Rows rows = tx.query(
          "SELECT object_kind, object_name, definition FROM multidb.catalog_objects(ARRAY[$1], $2::boolean)"
          " ORDER BY object_kind, object_name",
          {resolved, std::string(request.get_param_value("refresh") == "true" ? "true" : "false")});
      json objects = json::array();
      for (size_t r = 0; r < rows.rows.size(); r++)
        objects.push_back({{"kind", *rows.at(r, "object_kind")}, {"name", *rows.at(r, "object_name")},
                           {"definition", rows.at(r, "definition") ? json(*rows.at(r, "definition")) : json()}});
      body["objects"] = objects;
    });
    return Reply{200, body};
  });
}

}  // namespace multidb::gateway
