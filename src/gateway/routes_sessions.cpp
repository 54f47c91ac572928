// The seed's chat sessions: POST/GET /api/chat/sessions, GET/PATCH/DELETE /api/chat/sessions/{id},
// GET /api/chat/sessions/{id}/messages. Another role's session is 404, as if it did not exist (row-level
// security on multidb's tables hides it, and every statement also says owner = current_user).
#include <algorithm>

#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

const char* const kSessionJson =
    "SELECT jsonb_build_object('id', s.id, 'name', s.name, 'owner', s.owner, 'user_id', s.owner,"
    " 'connection_ids', s.connections, 'active_connection_ids', s.connections, 'created_at', s.created_at,"
    " 'updated_at', s.updated_at, 'last_active_at', s.last_active_at)::text AS session"
    " FROM multidb.chat_sessions s WHERE s.id = $1::uuid AND s.owner = current_user";

ApiError no_session(const std::string& id) {
  return ApiError(404, "chat session " + id + " does not exist", "GET /api/chat/sessions lists yours", "42704");
}

// The session as JSON, or 404 (a malformed id is no session either).
json load_session(RoleTransaction& tx, const std::string& id) {
  if (!is_uuid(id)) throw no_session(id);
  Rows rows = tx.query(kSessionJson, {id});
  if (rows.rows.empty()) throw no_session(id);
  return json::parse(*rows.rows[0][0]);
}

}  // namespace

void install_session_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "POST", "/api/chat/sessions", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    CreateSession create = parse_create_session(parse_object(request.body));
    json session;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::vector<std::string> names = resolve_connections(tx, create.connections, "connection_ids");
      Rows rows = tx.query("SELECT multidb.create_session($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))::text",
                           {create.name, json_array(names)});
      session = load_session(tx, *rows.rows[0][0]);
    });
    return Reply{201, session};
  });

  gateway.route(server, "GET", "/api/chat/sessions", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json list;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      Rows rows = tx.query(
          "SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'owner', s.owner,"
          " 'user_id', s.owner, 'connection_ids', s.connections, 'active_connection_ids', s.connections,"
          " 'created_at', s.created_at, 'updated_at', s.updated_at, 'last_active_at', s.last_active_at)"
          " ORDER BY coalesce(s.last_active_at, s.created_at) DESC, s.id), '[]')::text"
          " FROM multidb.chat_sessions s WHERE s.owner = current_user");
      list = json::parse(*rows.rows[0][0]);
    });
    return Reply{200, list};
  });

  gateway.route(server, "GET", R"(/api/chat/sessions/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    json session;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) { session = load_session(tx, request.matches[1]); });
    return Reply{200, session};
  });

  gateway.route(server, "PATCH", R"(/api/chat/sessions/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string id = request.matches[1];
    PatchSession patch = parse_patch_session(parse_object(request.body));
    json session;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      session = load_session(tx, id);
      if (patch.name)
        tx.query("UPDATE multidb.chat_sessions SET name = $2, updated_at = now() WHERE id = $1::uuid AND owner = current_user",
                 {id, *patch.name});
      std::vector<std::string> current = session["connection_ids"].get<std::vector<std::string>>();
      std::vector<std::string> attach = resolve_connections(tx, patch.attach, "attach");
      std::vector<std::string> detach = resolve_connections(tx, patch.detach, "detach");
      if (patch.connections) {
        // The whole new list: attach what is new, detach what is gone.
        std::vector<std::string> wanted = resolve_connections(tx, *patch.connections, "connection_ids");
        for (const std::string& name : wanted)
          if (std::find(current.begin(), current.end(), name) == current.end()) attach.push_back(name);
        for (const std::string& name : current)
          if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) detach.push_back(name);
      }
      for (const std::string& name : attach) tx.query("SELECT multidb.attach($1::uuid, $2)", {id, name});
      for (const std::string& name : detach) tx.query("SELECT multidb.detach($1::uuid, $2)", {id, name});
      session = load_session(tx, id);
    });
    return Reply{200, session};
  });

  gateway.route(server, "DELETE", R"(/api/chat/sessions/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      load_session(tx, request.matches[1]);
      tx.query("SELECT multidb.drop_session($1::uuid)", {std::string(request.matches[1])});
    });
    return Reply{204, nullptr};
  });

  gateway.route(server, "GET", R"(/api/chat/sessions/([^/]+)/messages)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    json messages;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      load_session(tx, request.matches[1]);
      Rows rows = tx.query(
          "SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'chat_session_id', m.session_id, 'role', m.role,"
          " 'content', m.content, 'query_history_id', m.query_id, 'databases_used', m.databases_used,"
          " 'created_at', m.created_at) ORDER BY m.id), '[]')::text"
          " FROM multidb.chat_messages m WHERE m.session_id = $1::uuid",
          {std::string(request.matches[1])});
      messages = json::parse(*rows.rows[0][0]);
    });
    return Reply{200, messages};
  });
}

}  // namespace multidb::gateway
