// Views over HTTP: GET/POST /api/views (the caller's, from multidb.views; one made from a question —
// multidb.create_view — or from SQL — multidb.create_view_sql), GET/DELETE /api/views/{view} (its entry and
// columns; multidb.drop_view), GET /api/views/{view}/rows (its rows as the caller reads them, or a page of them,
// streamed as JSON or CSV), POST /api/views/{view}/refresh, GET /api/views/{view}/check and POST
// /api/views/{view}/rebind. {view} is the schema-qualified name multidb.views shows. A view that is not the
// caller's is 404, or 403 for the routes that change it when the caller may read it (a view shared by GRANT
// SELECT: its rows are readable, the rest is its owner's).
#include <memory>
#include <string>

#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"
#include "gateway/row_export.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// The caller's views (multidb.views is the caller's own), all or the one $1 names (parse_ident: quoting and case
// as Postgres reads a name).
const char* const kViews =
    "SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY v.view), '[]'::jsonb)::text FROM multidb.views v"
    " WHERE $1::text IS NULL OR parse_ident(v.view) = parse_ident($1)";

// A multidb view the caller may read, named by $1: a view whose rule reads a snapshot table or calls
// multidb.fanout_rows or multidb.run_plan, in a schema the caller may use, with SELECT granted. Its name quoted by
// format('%I.%I'): the only name a statement is built from (a relation cannot be a bind parameter).
const char* const kReadable =
    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE ARRAY[n.nspname::text, c.relname::text] = parse_ident($1) AND c.relkind = 'v'"
    " AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')"
    " AND EXISTS (SELECT 1 FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid"
    "   WHERE r.ev_class = c.oid AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT s.oid FROM pg_class s"
    "       JOIN pg_namespace sn ON sn.oid = s.relnamespace WHERE sn.nspname = 'multidb_snapshots'))"
    "     OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (SELECT p.oid FROM pg_proc p"
    "       JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE pn.nspname = 'multidb'"
    "       AND p.proname IN ('fanout_rows', 'run_plan')))))";

// Whether the view named by $1 (quoted, qualified) reads a snapshot table (multidb_snapshots) and no fan-out.
const char* const kIsSnapshot =
    "SELECT EXISTS (SELECT 1 FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass"
    "   AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass"
    "   JOIN pg_class s ON s.oid = d.refobjid JOIN pg_namespace sn ON sn.oid = s.relnamespace"
    "   WHERE r.ev_class = $1::regclass AND sn.nspname = 'multidb_snapshots')"
    " AND NOT EXISTS (SELECT 1 FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass"
    "   AND d.objid = r.oid AND d.refclassid = 'pg_proc'::regclass"
    "   JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace"
    "   WHERE r.ev_class = $1::regclass AND pn.nspname = 'multidb' AND p.proname IN ('fanout_rows', 'run_plan'))";

// The view's columns as its readers see them (source_db, _as_of for a snapshot, then the answer's), typed by
// format_type.
const char* const kColumns =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))"
    " ORDER BY a.attnum), '[]'::jsonb)::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE ARRAY[n.nspname::text, c.relname::text] = parse_ident($1) AND a.attnum > 0 AND NOT a.attisdropped";

// A made view's qualified name, from the oid of the regclass the function returned (a statement of its own: one
// that made the view does not see it in pg_class).
const char* const kNameOf =
    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.oid = $1::oid";

// Parameter n as a list of names the way multidb's functions take it (text[]), or NULL when none was given.
std::string names_arg(int n) {
  const std::string param = "$" + std::to_string(n) + "::jsonb";
  return "CASE WHEN " + param + " IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(" + param + ")) END";
}

ApiError no_view(const std::string& name) {
  return ApiError(404, "view \"" + name + "\" does not exist", "GET /api/views lists yours (schema.name)", "42P01");
}

// A view the caller owns: its entry in multidb.views and its quoted name. Another role's view is 404, or 403 when
// the caller may read it (it knows the view exists, but only the owner may change it).
struct OwnView {
  json entry;
  std::string name;  // quoted, schema-qualified
};
OwnView own_view(RoleTransaction& tx, const std::string& name) {
  json list = json::parse(tx.query(kViews, {name}).rows.at(0).at(0).value_or("[]"));
  Rows readable = tx.query(kReadable, {name});
  if (list.empty()) {
    if (readable.rows.empty()) throw no_view(name);
    throw ApiError(403, "view \"" + name + "\" is not yours: only its owner may change it",
                   "you may read its rows (GET /api/views/{view}/rows); ask its owner for the rest", "42501");
  }
  OwnView out{list[0], ""};
  if (!readable.rows.empty() && readable.rows[0][0]) out.name = *readable.rows[0][0];
  else out.name = *tx.query("SELECT format('%I.%I', (parse_ident($1))[1], (parse_ident($1))[2])",
                            {list[0].value("view", name)}).rows.at(0).at(0);
  return out;
}

json entry_of(RoleTransaction& tx, const std::string& name) {
  json list = json::parse(tx.query(kViews, {name}).rows.at(0).at(0).value_or("[]"));
  if (list.empty()) throw no_view(name);
  return list[0];
}

}  // namespace

void install_view_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/views", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json list;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      list = json::parse(tx.query(kViews, {std::nullopt}).rows.at(0).at(0).value_or("[]"));
    });
    return Reply{200, list};
  });

  gateway.route(server, "POST", "/api/views", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    const CreateView view = parse_create_view(parse_object(request.body));
    json entry;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      std::optional<std::string> made;
      if (view.question) {
        Ask ask{*view.question, view.session, view.connections};
        const std::optional<std::string> names = ask_targets(tx, ask);
        const std::string sql = "SELECT multidb.create_view($1, $2, $3::uuid, " + names_arg(4) + ", $5, $6, $7)::oid";
        made = tx.query(sql.c_str(), {view.name, *view.question, view.session, names, view.mode, view.schedule,
                                      view.on_drift}).rows.at(0).at(0);
      } else {
        std::optional<std::string> names;
        if (view.connections) names = json_array(resolve_connections(tx, *view.connections, "connections"));
        const std::string sql =
            "SELECT multidb.create_view_sql($1, $2, " + names_arg(3) + ", $4, $5, $6, $7)::oid";
        made = tx.query(sql.c_str(), {view.name, *view.sql, names, view.mode, view.schedule, view.on_drift,
                                      view.description}).rows.at(0).at(0);
      }
      Rows named = tx.query(kNameOf, {made});
      entry = entry_of(tx, named.rows.empty() || !named.rows[0][0] ? view.name : *named.rows[0][0]);
    });
    return Reply{201, entry};
  });

  gateway.route(server, "GET", R"(/api/views/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    json entry;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      OwnView view = own_view(tx, name);
      entry = view.entry;
      entry["view_columns"] = json::parse(tx.query(kColumns, {view.name}).rows.at(0).at(0).value_or("[]"));
    });
    return Reply{200, entry};
  });

  gateway.route(server, "GET", R"(/api/views/([^/]+)/rows)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    std::optional<std::string> offset_text, limit_text;
    if (request.has_param("offset")) offset_text = request.get_param_value("offset");
    if (request.has_param("limit")) limit_text = request.get_param_value("limit");
    const std::optional<Page> page = parse_page(offset_text, limit_text);
    std::optional<std::string> total;
    auto out = std::make_shared<Export>();
    out->role = caller.role;
    out->shape = Export::Shape::kRecord;
    out->csv = wants_csv(request.get_param_value("format"), request.has_param("format"),
                         request.get_header_value("Accept"));
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      Rows readable = tx.query(kReadable, {name});
      if (readable.rows.empty() || !readable.rows[0][0]) throw no_view(name);
      // CSV takes each value as Postgres writes it (json_each_text), so a numeric keeps its digits.
      const std::string record = out->csv ? "(SELECT json_object_agg(e.key, e.value ORDER BY e.n)"
                                            " FROM json_each_text(row_to_json(v)) WITH ORDINALITY e(key, value, n))::text"
                                          : "row_to_json(v)::text";
      out->sql = "SELECT " + record + " FROM " + *readable.rows[0][0] + " v OFFSET $1::bigint LIMIT $2::bigint";
      if (page) out->params = {std::to_string(page->offset), std::to_string(page->limit)};
      else out->params = {std::nullopt, std::nullopt};
      // A page of a snapshot says how many rows the snapshot has: counting a local table is cheap. A live view's
      // count would run its databases' statements once more, so it has none.
      if (page && tx.query(kIsSnapshot, {*readable.rows[0][0]}).rows.at(0).at(0) == std::optional<std::string>("t"))
        total = tx.query(("SELECT count(*) FROM " + *readable.rows[0][0]).c_str()).rows.at(0).at(0);
    });
    Reply reply{200};
    std::string file = name;
    for (char& c : file)
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
    reply.stream = [&gateway, out, file, total](httplib::Response& response) {
      if (total) response.set_header("X-Total-Count", *total);
      start_export(response, gateway, out, file + ".csv");
    };
    return reply;
  });

  gateway.route(server, "POST", R"(/api/views/([^/]+)/refresh)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      OwnView view = own_view(tx, name);
      const std::optional<std::string> rows =
          tx.query("SELECT multidb.refresh_view($1::regclass)", {view.name}).rows.at(0).at(0);
      json entry = entry_of(tx, name);
      answer = {{"view", entry.value("view", name)},
                {"rows", rows ? json(std::stoll(*rows)) : json()},
                {"status", entry.value("status", json())},
                {"error", entry.value("error", json())},
                {"last_refresh", entry.value("last_refresh", json())},
                {"last_attempt", entry.value("last_attempt", json())}};
    });
    return Reply{200, answer};
  });

  gateway.route(server, "GET", R"(/api/views/([^/]+)/check)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      OwnView view = own_view(tx, name);
      Rows rows = tx.query(
          "SELECT coalesce(jsonb_agg(jsonb_build_object('change', d.change, 'column_name', d.column_name,"
          " 'database', d.database, 'expected', d.expected, 'found', d.found)), '[]'::jsonb)::text"
          " FROM multidb.check_view($1::regclass) d",
          {view.name});
      answer = {{"view", view.entry.value("view", name)}, {"drift", json::parse(rows.rows.at(0).at(0).value_or("[]"))}};
    });
    return Reply{200, answer};
  });

  gateway.route(server, "POST", R"(/api/views/([^/]+)/rebind)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    const bool replan = parse_rebind(parse_object(request.body));
    json entry;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      OwnView view = own_view(tx, name);
      tx.query("SELECT multidb.rebind_view($1::regclass, $2::boolean)", {view.name, replan ? "true" : "false"});
      entry = entry_of(tx, name);
    });
    return Reply{200, entry};
  });

  gateway.route(server, "DELETE", R"(/api/views/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = view_name(request.matches[1]);
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      OwnView view = own_view(tx, name);
      tx.query("SELECT multidb.drop_view($1::regclass)", {view.name});
    });
    return Reply{204, nullptr};
  });
}

}  // namespace multidb::gateway
