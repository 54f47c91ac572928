// GET /api/connections (every connection with its id, never a password), GET /api/connections/health (whether
// the caller can use each one now, and why not) and GET /api/connections/{name}/schema (its tables, columns and
// other objects, from multidb's schema cache).
#include <map>
#include <set>

#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/progress_run.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// One connection's health as the caller would meet it: "reachable", or why not — "unusable" (multidb would
// refuse it before connecting: no USAGE, no user mapping, the password rule), "unreachable" (the connection
// failed: down, wrong address, wrong password, a frozen server), "refused" (it connected, and multidb's checks
// of the remote refused it: a privileged remote role, a session that does not read SQL as the guard does) or
// "failed" (anything else the remote said).
struct Health {
  std::string status;
  json error;  // null, or {message, detail, hint, sqlstate}
  json ms;     // a reachable one's time to answer
};

json error_json(const std::string& message, const std::string& sqlstate, const std::string& hint = "",
                const std::string& detail = "") {
  auto or_null = [](const std::string& s) { return s.empty() ? json() : json(s); };
  return {{"message", message}, {"detail", or_null(detail)}, {"hint", or_null(hint)}, {"sqlstate", or_null(sqlstate)}};
}

std::string status_of_failure(const std::string& sqlstate) {
  if (sqlstate == "08001" || sqlstate == "08006" || sqlstate == "57014") return "unreachable";
  if (sqlstate == "42501" || sqlstate == "2F003") return "refused";
  return "failed";
}

// How a health check's SELECT 1 ended on one database, from the fan-out's progress events.
void note_event(const std::string& name, const json& data, std::map<std::string, Health>* settled) {
  if (!data.is_object() || !data.contains("database") || !data["database"].is_string()) return;
  const std::string database = data["database"];
  if (name == "done") {
    (*settled)[database] = Health{"reachable", nullptr, data.value("ms", json())};
  } else if (name == "error" || name == "refused") {
    const std::string sqlstate = data.value("sqlstate", "");
    (*settled)[database] = Health{name == "refused" ? "refused" : status_of_failure(sqlstate),
                                  error_json(data.value("message", ""), sqlstate), nullptr};
  }
}

// The reachability of names, all at once: one multidb.fanout of SELECT 1 with multidb.on_error = warn, so a
// database that fails is an event and the others go on; each connection attempt is bounded by
// multidb.connect_timeout (or its server's connect_timeout), the statement by multidb.statement_timeout (5 s
// here). A failure that multidb always raises as an ERROR (the remote's own checks refusing it) ends the call:
// it is recorded against the database it names and the rest are tried again, in a savepoint.
void check_reachable(RoleTransaction& tx, std::vector<std::string> names, std::map<std::string, Health>* settled) {
  tx.query("SELECT pg_catalog.set_config('multidb.on_error', 'warn', true)");
  tx.query("SELECT pg_catalog.set_config('multidb.progress', 'on', true)");
  tx.query("SELECT pg_catalog.set_config('multidb.statement_timeout', '5s', true)");
  tx.query("SELECT pg_catalog.set_config('client_min_messages', 'notice', true)");
  while (!names.empty()) {
    ProgressHooks hooks;
    hooks.deadline = std::chrono::steady_clock::now() + tx.timeout();
    hooks.on_event = [settled](const std::string& name, const json& data) { note_event(name, data, settled); };
    tx.query("SAVEPOINT multidb_health");
    try {
      run_with_progress(tx.connection(),
                        "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))",
                        {json_array(names)}, hooks, std::chrono::milliseconds(1000));
      tx.query("RELEASE SAVEPOINT multidb_health");
      for (const std::string& name : names)
        if (!settled->count(name))
          (*settled)[name] = Health{"failed", error_json("the health check got no answer for this connection", ""), nullptr};
      return;
    } catch (const ApiError& e) {
      if (e.status == 503 || e.status == 504) throw;  // the coordinator itself, not a connection
      tx.query("ROLLBACK TO SAVEPOINT multidb_health");
      if (!e.database.empty() && !settled->count(e.database))
        (*settled)[e.database] = Health{status_of_failure(e.sqlstate), error_json(e.what(), e.sqlstate, e.hint, e.detail),
                                        nullptr};
      std::vector<std::string> left;
      for (const std::string& name : names)
        if (!settled->count(name)) left.push_back(name);
      if (left.size() == names.size()) {
        // An ERROR that names none of them: it is every one's answer.
        for (const std::string& name : names)
          (*settled)[name] = Health{status_of_failure(e.sqlstate), error_json(e.what(), e.sqlstate, e.hint, e.detail),
                                    nullptr};
        return;
      }
      names = left;
    }
  }
}

}  // namespace

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
  gateway.route(server, "GET", "/api/connections/health", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    // ?connection= (again for more): only those, by name or id; else every connection.
    std::vector<std::string> wanted;
    for (size_t i = 0; i < request.get_param_value_count("connection"); i++) {
      const std::string value = request.get_param_value("connection", i);
      if (value.empty() || value.size() > kMaxNameBytes || wanted.size() >= kMaxConnections)
        throw BodyError("connection", "?connection must name a connection (its name or id)");
      wanted.push_back(value);
    }
    json list = json::array();
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      Rows rows = tx.query(kConnectionsWithIds);
      std::vector<size_t> chosen;
      std::set<std::string> found;
      for (size_t r = 0; r < rows.rows.size(); r++) {
        const std::string id = *rows.at(r, "id"), name = *rows.at(r, "name");
        bool take = wanted.empty();
        for (const std::string& w : wanted)
          if (w == id || w == name) {
            take = true;
            found.insert(w);
          }
        if (take) chosen.push_back(r);
      }
      for (const std::string& w : wanted)
        if (!found.count(w)) {
          ApiError error(404, "connection \"" + w + "\" does not exist", "GET /api/connections lists them", "42704");
          error.field = "connection";
          throw error;
        }
      // First what multidb would refuse before connecting (no network: the catalogs), one savepoint each.
      std::map<std::string, Health> settled;
      std::vector<std::string> to_try;
      for (size_t r : chosen) {
        const std::string name = *rows.at(r, "name");
        tx.query("SAVEPOINT multidb_health");
        try {
          tx.query("SELECT multidb.check_connections(ARRAY[$1])", {name});
          tx.query("RELEASE SAVEPOINT multidb_health");
          to_try.push_back(name);
        } catch (const ApiError& e) {
          if (e.status == 503 || e.status == 504) throw;
          tx.query("ROLLBACK TO SAVEPOINT multidb_health");
          settled[name] = Health{"unusable", error_json(e.what(), e.sqlstate, e.hint, e.detail), nullptr};
        }
      }
      check_reachable(tx, to_try, &settled);
      for (size_t r : chosen) {
        const std::string name = *rows.at(r, "name");
        const Health& health = settled[name];
        list.push_back({{"id", std::stol(*rows.at(r, "id"))}, {"name", name},
                        {"usable", rows.at(r, "usable") == std::optional<std::string>("t")},
                        {"reachable", health.status == "reachable"}, {"status", health.status}, {"ms", health.ms},
                        {"error", health.error}});
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
