// The query builder over HTTP: GET /api/build/catalog (multidb.spec_catalog: the chosen databases' tables and
// columns side by side, what some lack and where, types that differ), POST /api/build/sql (multidb.build_plan:
// the SQL a query spec compiles to on each database, nothing run) and POST /api/build (the spec run: fanout and
// totals through multidb.build with progress on, answered as an ask is; compare through multidb.compare,
// answered as POST /api/compare is). Bind parameters only, as the caller's role; what is wrong in a spec is the
// coordinator's to say (a 22023 naming the member, which the JSON error carries as "field").
#include <chrono>

#include "gateway/api_error.hpp"
#include "gateway/ask_result.hpp"
#include "gateway/ask_stream.hpp"
#include "gateway/compare_run.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// The query spec of a POST body (which may nest as deep as a spec's filter does).
std::string spec_of(const httplib::Request& request) {
  return parse_spec(parse_object(request.body, kMaxSpecNesting));
}

json build_plan(RoleTransaction& tx, const std::string& spec) {
  return json::parse(tx.query("SELECT multidb.build_plan($1::jsonb)::text", {spec}).rows.at(0).at(0).value_or("null"));
}

// A spec in fanout or totals mode run by multidb.build, its progress events giving each database's row count,
// time and columns in the statement's order, answered as an ask with that plan would be (totals: the databases'
// rows stay on the coordinator, only the combined rows come back).
json run_rows(RoleTransaction& tx, const std::string& spec, const json& plan) {
  progress_on(tx);
  RunProgress progress;
  const auto start = std::chrono::steady_clock::now();
  Rows rows = query_observed(tx, "SELECT source_db, row_data::text FROM multidb.build($1::jsonb)", {spec},
                             [&progress](const std::string& name, const json& data) {
                               note_run_progress(progress, name, data);
                             });
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::vector<TaggedRow> tagged;
  tagged.reserve(rows.rows.size());
  for (const auto& row : rows.rows) tagged.emplace_back(row[0].value_or(""), json::parse(row[1].value_or("null")));
  const std::string description = plan.value("description", "");
  const json run_plan = {{"queries", plan.value("queries", json::array())}, {"combine", plan.value("combine", json())}};
  return build_ask_result(description, nullptr, tagged, run_history(run_plan, description, progress, ms),
                          progress.order);
}

// A spec in compare mode: its one statement on a and b, compared on its key as POST /api/compare compares.
json run_compared(RoleTransaction& tx, const json& plan) {
  const json& queries = plan.at("queries");
  const json& compare = plan.at("compare");
  if (queries.empty() || !compare.is_object())
    throw ApiError(500, "the coordinator's plan of a compare has no statement or sides", "", "", plan.dump());
  std::optional<std::string> key;
  if (compare.contains("key") && compare["key"].is_array() && !compare["key"].empty()) key = compare["key"].dump();
  return run_compare(tx, queries[0].at("sql").get<std::string>(), compare.at("a").get<std::string>(),
                     compare.at("b").get<std::string>(), key, "same");
}

}  // namespace

void install_build_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/build/catalog", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    // ?connection= (again for more): names, @groups or ids.
    json wanted = json::array();
    for (size_t i = 0; i < request.get_param_value_count("connection"); i++) {
      const std::string value = request.get_param_value("connection", i);
      if (value.empty() || value.size() > kMaxNameBytes || wanted.size() >= kMaxConnections)
        throw BodyError("connection", "?connection must name a connection (its name or id) or a @group");
      wanted.push_back(value);
    }
    if (wanted.empty())
      throw BodyError("connection", "?connection is required: the databases to build a query on (again for more)");
    const std::vector<ConnectionRef> refs = parse_connections(json{{"connection", wanted}}, "connection");
    json catalog;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      const std::vector<std::string> names = resolve_connections(tx, refs, "connection");
      catalog = json::parse(tx.query("SELECT multidb.spec_catalog(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))::text",
                                     {json_array(names)}).rows.at(0).at(0).value_or("null"));
    });
    return Reply{200, catalog};
  });

  gateway.route(server, "POST", "/api/build/sql", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string spec = spec_of(request);
    json plan;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) { plan = build_plan(tx, spec); });
    return Reply{200, plan};
  });

  gateway.route(server, "POST", "/api/build", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string spec = spec_of(request);
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      // Compiled once here for the plan the answer carries (and a compare's statement and sides); a bad spec
      // fails before anything runs.
      const json plan = build_plan(tx, spec);
      const std::string mode = plan.value("mode", "fanout");
      answer = mode == "compare" ? run_compared(tx, plan) : run_rows(tx, spec, plan);
      answer["mode"] = mode;
      answer["plan"] = plan;
    });
    return Reply{200, answer};
  });
}

}  // namespace multidb::gateway
