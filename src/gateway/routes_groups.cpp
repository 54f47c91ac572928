// Connection groups over HTTP: GET /api/groups (every group: everyone may read them), POST /api/groups
// (multidb.create_group), PATCH /api/groups/{name} (multidb.alter_group: add, remove) and DELETE
// /api/groups/{name} (multidb.drop_group; only the owner may change or drop one: 403 otherwise).
#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

const char* const kGroups =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('name', g.name, 'connections', to_jsonb(g.connections),"
    " 'owner', g.owner, 'created_at', g.created_at) ORDER BY g.name), '[]'::jsonb)::text"
    " FROM multidb.connection_groups g WHERE $1::text IS NULL OR g.name = $1";

// A group's name as a path or body gives it: with or without its leading @.
std::string group_name(std::string name, const char* field) {
  if (!name.empty() && name[0] == '@') name.erase(0, 1);
  if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos)
    throw BodyError(field, std::string("\"") + field + "\" must be a group name");
  return name;
}

json one_group(RoleTransaction& tx, const std::string& name) {
  json list = json::parse(tx.query(kGroups, {name}).rows.at(0).at(0).value_or("[]"));
  if (list.empty())
    throw ApiError(404, "group \"@" + name + "\" does not exist", "GET /api/groups lists them", "42704");
  return list[0];
}

}  // namespace

void install_group_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/groups", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json list;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      list = json::parse(tx.query(kGroups, {std::nullopt}).rows.at(0).at(0).value_or("[]"));
    });
    return Reply{200, list};
  });
  gateway.route(server, "POST", "/api/groups", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    json body = parse_object(request.body);
    if (!body.contains("name") || !body["name"].is_string()) throw BodyError("name", "\"name\" is required: a string");
    const std::string name = group_name(body["name"].get<std::string>(), "name");
    const std::vector<ConnectionRef> refs = parse_connections(body, "connection_ids");
    json group;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::string names = json_array(resolve_connections(tx, refs, "connection_ids"));
      tx.query("SELECT multidb.create_group($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))", {name, names});
      group = one_group(tx, name);
    });
    return Reply{201, group};
  });
  gateway.route(server, "PATCH", R"(/api/groups/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = group_name(request.matches[1], "name");
    json body = parse_object(request.body);
    std::optional<std::vector<ConnectionRef>> add, remove;
    if (body.contains("add") && !body["add"].is_null()) add = parse_connections(body, "add");
    if (body.contains("remove") && !body["remove"].is_null()) remove = parse_connections(body, "remove");
    if (!add && !remove) throw BodyError("add", "give \"add\" or \"remove\": the connections to add or remove");
    json group;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_group(tx, name);
      std::optional<std::string> added, removed;
      if (add) added = json_array(resolve_connections(tx, *add, "add"));
      // Removed members may no longer exist: their names are taken as given.
      if (remove) {
        std::vector<std::string> names;
        for (const ConnectionRef& ref : *remove)
          names.push_back(ref.id ? resolve_connections(tx, {ref}, "remove").at(0) : ref.name);
        removed = json_array(names);
      }
      tx.query(
          "SELECT multidb.alter_group($1,"
          " CASE WHEN $2::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($2::jsonb)) END,"
          " CASE WHEN $3::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END)",
          {name, added, removed});
      group = one_group(tx, name);
    });
    return Reply{200, group};
  });
  gateway.route(server, "DELETE", R"(/api/groups/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = group_name(request.matches[1], "name");
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      // Everyone sees the group, so its existence is no secret: not being its owner is 403, as alter_group says.
      if (one_group(tx, name).value("owner", "") != caller.role)
        throw ApiError(403, "group \"@" + name + "\" is not yours", "only its owner may drop it", "42501");
      tx.query("SELECT multidb.drop_group($1)", {name});
    });
    return Reply{204, nullptr};
  });
}

}  // namespace multidb::gateway
