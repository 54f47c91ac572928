// Saved reports over HTTP: GET/POST /api/reports (the caller's, each with its pg_cron schedule and, for one saved
// from a query spec, its spec; save one from a chat message's ask — multidb.save_report_from_history —, from SQL
// on connections — multidb.save_report_sql — or from a query spec — multidb.save_report_spec),
// POST/GET /api/reports/{name}/runs (multidb.run_report; the runs so far), GET /api/reports/{name}/diff
// (multidb.report_diff) and PUT/DELETE /api/reports/{name}/schedule (multidb.schedule_report /
// unschedule_report, pg_cron; GET /api/reports/scheduling says whether that can work here). Reports are
// row-level secured: another role's is 404.
#include "gateway/api_error.hpp"
#include "gateway/connection_refs.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

// The caller's reports (all, or the one $1 names), each with its last run and, where pg_cron's job table can be
// read, its schedule (schedule_report makes the job "multidb report <name>", owned by the report's owner).
std::string reports_sql(bool cron) {
  const std::string job = cron ? "(SELECT jsonb_build_object('schedule', j.schedule, 'job_id', j.jobid) FROM cron.job j"
                                 " WHERE j.jobname = 'multidb report ' || r.name AND j.username = r.owner"
                                 " ORDER BY j.jobid DESC LIMIT 1)"
                               : "NULL::jsonb";
  return "SELECT coalesce(jsonb_agg(jsonb_build_object('name', r.name, 'question', r.question,"
         " 'connections', to_jsonb(r.connections), 'plan', r.plan, 'owner', r.owner, 'created_at', r.created_at,"
         " 'last_run', (SELECT jsonb_build_object('run_id', x.run_id, 'run_at', x.run_at, 'status', x.status)"
         "   FROM multidb.report_runs x WHERE x.report = r.name ORDER BY x.run_id DESC LIMIT 1),"
         " 'schedule', r.job->'schedule', 'job_id', r.job->'job_id', 'spec', r.plan->'spec')"
         " ORDER BY r.name), '[]'::jsonb)::text FROM (SELECT r.*, " + job + " AS job FROM multidb.reports r"
         " WHERE $1::text IS NULL OR r.name = $1) r";
}

// Whether the caller may read pg_cron's job table (pg_cron installed here, USAGE on its schema): each step only
// once the one before holds, so a missing schema or table is false, not an error.
const char* const kCronReadable =
    "SELECT CASE WHEN to_regnamespace('cron') IS NULL THEN false"
    " WHEN NOT has_schema_privilege('cron', 'USAGE') THEN false"
    " WHEN to_regclass('cron.job') IS NULL THEN false"
    " ELSE has_table_privilege('cron.job', 'SELECT') END";

json reports(RoleTransaction& tx, const std::optional<std::string>& name) {
  const bool cron = tx.query(kCronReadable).rows.at(0).at(0) == std::optional<std::string>("t");
  return json::parse(tx.query(reports_sql(cron).c_str(), {name}).rows.at(0).at(0).value_or("[]"));
}

const char* const kRuns =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('run_id', x.run_id, 'run_at', x.run_at, 'status', x.status,"
    " 'error', x.error, 'row_count', x.row_count) ORDER BY x.run_id DESC), '[]'::jsonb)::text FROM ("
    " SELECT run_id, min(run_at) AS run_at, min(status) AS status, min(error) AS error,"
    " count(source_db) AS row_count FROM multidb.report_runs WHERE report = $1 GROUP BY run_id) x";

const char* const kRunRows =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('database', source_db, 'row', row_data) ORDER BY id),"
    " '[]'::jsonb)::text FROM multidb.report_runs WHERE report = $1 AND run_id = $2::bigint AND source_db IS NOT NULL";

std::string report_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos)
    throw BodyError("name", "\"name\" must be a report name");
  return name;
}

// The caller's report, or 404 as if another role's did not exist.
json one_report(RoleTransaction& tx, const std::string& name) {
  json list = reports(tx, name);
  if (list.empty())
    throw ApiError(404, "report \"" + name + "\" does not exist", "GET /api/reports lists yours", "42704");
  return list[0];
}

std::optional<std::string> run_id_param(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return std::nullopt;
  const std::string value = request.get_param_value(name);
  if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
    throw BodyError(name, std::string("?") + name + " must be a run id");
  return value;
}

}  // namespace

void install_report_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "GET", "/api/reports", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json list;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      list = reports(tx, std::nullopt);
    });
    return Reply{200, list};
  });

  // Whether PUT /api/reports/{name}/schedule can work here: the checks schedule_report makes first (pg_cron
  // installed in this database; without its background workers, a connection it could make as the caller), in a
  // savepoint that is always rolled back.
  gateway.route(server, "GET", "/api/reports/scheduling", true, [&gateway](const Caller& caller, const httplib::Request&) {
    json answer = {{"available", true}, {"error", nullptr}};
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      tx.query("SAVEPOINT multidb_cron_check");
      try {
        tx.query("SELECT multidb._check_cron('a report')");
      } catch (const ApiError& e) {
        if (e.status == 503 || e.status == 504) throw;
        answer["available"] = false;
        json error = e.body()["error"];
        error.erase("database");
        answer["error"] = error;
      }
      tx.query("ROLLBACK TO SAVEPOINT multidb_cron_check");
    });
    return Reply{200, answer};
  });

  gateway.route(server, "POST", "/api/reports", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    json body = parse_object(request.body, kMaxSpecNesting);
    if (!body.contains("name") || !body["name"].is_string()) throw BodyError("name", "\"name\" is required: a string");
    const std::string name = report_name(body["name"].get<std::string>());
    const bool from_message = body.contains("message_id") && !body["message_id"].is_null();
    const bool from_sql = body.contains("sql") && !body["sql"].is_null();
    const bool from_spec = body.contains("spec") && !body["spec"].is_null();
    if (int(from_message) + int(from_sql) + int(from_spec) != 1)
      throw BodyError(from_spec ? "spec" : "message_id",
                      "give one of \"message_id\" (with \"chat_session_id\"): a message's ask, \"sql\" with "
                      "\"connection_ids\", or \"spec\": a query spec");
    json report;
    if (from_spec) {
      const std::string spec = parse_spec(body);
      gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
        tx.query("SELECT multidb.save_report_spec($1, $2::jsonb)", {name, spec});
        report = one_report(tx, name);
      });
    } else if (from_message) {
      const json& message = body["message_id"];
      if (!message.is_number_unsigned() && !message.is_number_integer())
        throw BodyError("message_id", "\"message_id\" must be a message id (a number)");
      if (!body.contains("chat_session_id") || !body["chat_session_id"].is_string() ||
          !is_uuid(body["chat_session_id"].get<std::string>()))
        throw BodyError("chat_session_id", "\"chat_session_id\" is required with \"message_id\": the session's id");
      const std::string session = body["chat_session_id"].get<std::string>();
      const std::string id = std::to_string(message.get<long long>());
      gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
        Rows found = tx.query(
            "SELECT m.query_id FROM multidb.chat_messages m JOIN multidb.chat_sessions s ON s.id = m.session_id"
            " AND s.owner = current_user WHERE m.session_id = $1::uuid AND m.id = $2::bigint",
            {session, id});
        if (found.rows.empty())
          throw ApiError(404, "message " + id + " of chat session " + session + " does not exist",
                         "GET /api/chat/sessions/{id}/messages lists the session's messages", "42704");
        if (!found.rows[0][0])
          throw ApiError(400, "message " + id + " has no ask to save", "save the assistant's answer to a question",
                         "22023");
        tx.query("SELECT multidb.save_report_from_history($1, $2::bigint)", {name, *found.rows[0][0]});
        report = one_report(tx, name);
      });
    } else {
      if (!body["sql"].is_string() || body["sql"].get<std::string>().empty() ||
          body["sql"].get<std::string>().size() > kMaxQuestionBytes)
        throw BodyError("sql", "\"sql\" must be a statement (a non-empty string)");
      const std::vector<ConnectionRef> refs = parse_connections(body, "connection_ids");
      gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
        const std::string names = json_array(resolve_connections(tx, refs, "connection_ids"));
        tx.query("SELECT multidb.save_report_sql($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))",
                 {name, body["sql"].get<std::string>(), names});
        report = one_report(tx, name);
      });
    }
    return Reply{201, report};
  });

  gateway.route(server, "POST", R"(/api/reports/([^/]+)/runs)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = report_name(request.matches[1]);
    json run;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_report(tx, name);
      const std::string run_id = *tx.query("SELECT multidb.run_report($1)", {name}).rows.at(0).at(0);
      json runs = json::parse(tx.query(kRuns, {name}).rows.at(0).at(0).value_or("[]"));
      for (const json& r : runs)
        if (r["run_id"].dump() == run_id) run = r;
      run["rows"] = json::parse(tx.query(kRunRows, {name, run_id}).rows.at(0).at(0).value_or("[]"));
    });
    return Reply{201, run};
  });

  gateway.route(server, "GET", R"(/api/reports/([^/]+)/runs)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = report_name(request.matches[1]);
    const std::optional<std::string> run_id = run_id_param(request, "run_id");
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_report(tx, name);
      if (run_id) answer = json::parse(tx.query(kRunRows, {name, run_id}).rows.at(0).at(0).value_or("[]"));
      else answer = json::parse(tx.query(kRuns, {name}).rows.at(0).at(0).value_or("[]"));
    });
    return Reply{200, answer};
  });

  gateway.route(server, "GET", R"(/api/reports/([^/]+)/diff)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = report_name(request.matches[1]);
    const std::optional<std::string> run_a = run_id_param(request, "run_a"), run_b = run_id_param(request, "run_b");
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_report(tx, name);
      Rows rows = tx.query(
          "SELECT coalesce(jsonb_agg(jsonb_build_object('change', d.change, 'database', d.source_db, 'row', d.row_data)),"
          " '[]'::jsonb)::text FROM multidb.report_diff($1, $2::bigint, $3::bigint) d",
          {name, run_a, run_b});
      answer = {{"report", name}, {"changes", json::parse(rows.rows.at(0).at(0).value_or("[]"))}};
    });
    return Reply{200, answer};
  });

  gateway.route(server, "PUT", R"(/api/reports/([^/]+)/schedule)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = report_name(request.matches[1]);
    json body = parse_object(request.body);
    if (!body.contains("schedule") || !body["schedule"].is_string() || body["schedule"].get<std::string>().empty() ||
        body["schedule"].get<std::string>().size() > 200)
      throw BodyError("schedule", "\"schedule\" is required: a cron schedule such as \"0 6 * * *\"");
    json answer;
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_report(tx, name);
      const std::string job =
          *tx.query("SELECT multidb.schedule_report($1, $2)", {name, body["schedule"].get<std::string>()}).rows.at(0).at(0);
      answer = {{"report", name}, {"schedule", body["schedule"]}, {"job_id", std::stoll(job)}};
    });
    return Reply{200, answer};
  });

  gateway.route(server, "DELETE", R"(/api/reports/([^/]+)/schedule)", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string name = report_name(request.matches[1]);
    gateway.db().as_role(caller.role, [&](RoleTransaction& tx) {
      one_report(tx, name);
      tx.query("SELECT multidb.unschedule_report($1)", {name});
    });
    return Reply{204, nullptr};
  });
}

}  // namespace multidb::gateway
