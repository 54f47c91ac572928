// Building the seed's multi-query answer from multidb.ask's rows and its history row (or, for a plan run without
// an ask, what its progress events told).
#include "gateway/ask_result.hpp"

#include <algorithm>
#include <map>

namespace multidb::gateway {

using nlohmann::json;

namespace {

std::string type_of(const json& value) {
  switch (value.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::boolean: return "boolean";
    case json::value_t::string: return "string";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    default: return "null";
  }
}

json or_null(const json& object, const std::string& key) {
  return object.is_object() && object.contains(key) ? object[key] : json();
}

}  // namespace

void note_column_order(ColumnOrder& order, const std::string& event, const json& data) {
  if (!data.is_object() || !data.contains("columns") || !data["columns"].is_array()) return;
  std::string key;
  if (event == "combine") key = "combined";
  else if (event == "done" && data.contains("database") && data["database"].is_string()) key = data["database"];
  else return;
  std::vector<std::string> names;
  for (const json& name : data["columns"])
    if (name.is_string()) names.push_back(name.get<std::string>());
  order[key] = std::move(names);
}

void note_run_progress(RunProgress& progress, const std::string& event, const json& data) {
  note_column_order(progress.order, event, data);
  if (!data.is_object()) return;
  if (event == "done" && data.contains("database") && data["database"].is_string()) {
    const std::string database = data["database"];
    if (data.contains("rows") && data["rows"].is_number()) progress.row_counts[database] = data["rows"];
    if (data.contains("ms") && data["ms"].is_number()) progress.timings_ms[database] = data["ms"];
  } else if (event == "end" && data.contains("status") && data["status"].is_string()) {
    progress.status = data["status"];
  }
}

json run_history(const json& plan, const std::string& explanation, const RunProgress& progress, double total_ms) {
  json with_explanation = plan.is_object() ? plan : json::object();
  with_explanation["explanation"] = explanation;
  return json{{"id", nullptr},           {"plan", with_explanation},     {"status", progress.status},
              {"error", nullptr},        {"row_counts", progress.row_counts}, {"timings_ms", progress.timings_ms},
              {"llm_ms", nullptr},       {"exec_ms", total_ms},          {"total_ms", total_ms},
              {"cached", nullptr}};
}

json infer_columns(const json& rows, const std::vector<std::string>& order) {
  std::vector<std::string> seen;
  std::map<std::string, std::string> types;
  for (const json& row : rows) {
    if (!row.is_object()) continue;
    for (auto it = row.begin(); it != row.end(); ++it) {
      auto found = types.find(it.key());
      const std::string type = type_of(it.value());
      if (found == types.end()) {
        seen.push_back(it.key());
        types[it.key()] = type;
      } else if (found->second == "null") {
        found->second = type;
      } else if (type != "null" && type != found->second) {
        found->second = "mixed";
      }
    }
  }
  // The statement's names first, each once (a name used twice is one key of the rows), then the rest.
  std::vector<std::string> ordered;
  for (const std::string& name : order)
    if (types.count(name) && std::find(ordered.begin(), ordered.end(), name) == ordered.end()) ordered.push_back(name);
  for (const std::string& name : seen)
    if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) ordered.push_back(name);
  json columns = json::array();
  for (const std::string& name : ordered) columns.push_back({{"name", name}, {"type", types[name]}});
  return columns;
}

json build_ask_result(const std::string& question, const json& session_id, const std::vector<TaggedRow>& rows,
                      const json& history, const ColumnOrder& order) {
  auto order_of = [&order](const std::string& key) {
    auto found = order.find(key);
    return found == order.end() ? std::vector<std::string>() : found->second;
  };
  const json plan = or_null(history, "plan");
  std::map<std::string, json> rows_of;
  std::vector<std::string> seen;
  for (const TaggedRow& row : rows) {
    if (!rows_of.count(row.first)) {
      rows_of[row.first] = json::array();
      seen.push_back(row.first);
    }
    rows_of[row.first].push_back(row.second);
  }
  const std::string status = or_null(history, "status").is_string() ? history["status"].get<std::string>() : "ok";
  const json row_counts = or_null(history, "row_counts"), timings = or_null(history, "timings_ms");

  json results = json::array();
  std::vector<std::string> planned;
  if (plan.is_object() && plan.contains("queries") && plan["queries"].is_array())
    for (const json& q : plan["queries"])
      if (q.is_object() && q.contains("database") && q["database"].is_string())
        planned.push_back(q["database"].get<std::string>());
  // Databases that sent rows without being in the plan (there is no history to read) still get an entry.
  for (const std::string& db : seen)
    if (db != "combined" && std::find(planned.begin(), planned.end(), db) == planned.end()) planned.push_back(db);

  for (size_t i = 0; i < planned.size(); i++) {
    const std::string& db = planned[i];
    json sql;
    if (plan.is_object() && plan.contains("queries") && i < plan["queries"].size())
      for (const json& q : plan["queries"])
        if (q.value("database", "") == db) sql = q.value("sql", "");
    json db_rows = rows_of.count(db) ? rows_of[db] : json::array();
    json row_count = or_null(row_counts, db);
    json error;
    if (row_count.is_null() && status == "partial")
      error = {{"message", "this database failed; the others answered (multidb.on_error = warn)"},
               {"detail", or_null(history, "error")}, {"sqlstate", nullptr}};
    results.push_back({{"connection_name", db},
                       {"sql", sql},
                       {"row_count", row_count.is_null() ? json(db_rows.size()) : row_count},
                       {"rows", db_rows},
                       {"columns", infer_columns(db_rows, order_of(db))},
                       {"execution_time_ms", or_null(timings, db)},
                       {"error", error}});
  }

  json combined;
  if (plan.is_object() && plan.contains("combine") && plan["combine"].is_string() && !plan["combine"].get<std::string>().empty()) {
    json combined_rows = rows_of.count("combined") ? rows_of["combined"] : json::array();
    combined = {{"sql", plan["combine"]},
                {"row_count", combined_rows.size()},
                {"rows", combined_rows},
                {"columns", infer_columns(combined_rows, order_of("combined"))}};
  }
  const json cached = or_null(history, "cached");
  return json{{"question", question},
              {"chat_session_id", session_id},
              {"status", status},
              {"database_results", results},
              {"combined", combined},
              {"explanation", or_null(plan, "explanation")},
              {"query_history_id", or_null(history, "id")},
              {"timings", {{"llm_ms", or_null(history, "llm_ms")},
                           {"exec_ms", or_null(history, "exec_ms")},
                           {"total_ms", or_null(history, "total_ms")}}},
              {"cached", !cached.is_null()},
              {"cache", cached}};
}

}  // namespace multidb::gateway
