// The seed's multi-query answer, built from what multidb.ask returned (rows tagged with their database) and
// the ask's query_history row: database_results per database (connection_name, sql, row_count, rows, columns,
// execution_time_ms, error), the combine step's rows, explanation, history id, timings, cached. The columns
// come in the statement's order, which the progress events' "columns" give (the rows are jsonb, whose keys are
// sorted). Pure.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace multidb::gateway {

// One row of multidb.ask: its source_db and its row_data.
using TaggedRow = std::pair<std::string, nlohmann::json>;

// Each database's column names in its statement's order ("combined": the combine step's), from the progress
// events.
using ColumnOrder = std::map<std::string, std::vector<std::string>>;

// Notes the column names of one progress event: a "done" event's for its database, a "combine" event's for
// "combined" (a later event of the same one, after a repair, replaces it). Other events, and events without
// "columns", change nothing.
void note_column_order(ColumnOrder& order, const std::string& event, const nlohmann::json& data);

// history: the query_history row as JSON (id, plan, status, error, row_counts, timings_ms, llm_ms, exec_ms,
// total_ms, cached), or null when there is none. order: as note_column_order gathered it (empty: key order).
nlohmann::json build_ask_result(const std::string& question, const nlohmann::json& session_id,
                                const std::vector<TaggedRow>& rows, const nlohmann::json& history,
                                const ColumnOrder& order = {});

// What the progress events of a plan run without an ask (multidb.run_plan, multidb.build) tell of it, standing in
// for the history row an ask has: each database's row count and time (its done event), the columns in order,
// and the status (its end event: ok, or partial when a database failed under multidb.on_error = warn).
struct RunProgress {
  ColumnOrder order;
  nlohmann::json row_counts = nlohmann::json::object();
  nlohmann::json timings_ms = nlohmann::json::object();
  std::string status = "ok";
};

// Notes one progress event (as note_column_order does for the columns).
void note_run_progress(RunProgress& progress, const std::string& event, const nlohmann::json& data);

// The history row build_ask_result takes, for a run of plan ({"queries", "combine"}) that took total_ms:
// plan with explanation as its explanation, the counts, times and status progress gathered.
nlohmann::json run_history(const nlohmann::json& plan, const std::string& explanation, const RunProgress& progress,
                           double total_ms);

// Columns of rows: the keys in order's order first (the statement's column names), then any other key in the
// order first met; each with the JSON type its non-null values have ("number", "string", "boolean", "object",
// "array"; "mixed" when they differ; "null" when all are null). Only keys the rows have are listed.
nlohmann::json infer_columns(const nlohmann::json& rows, const std::vector<std::string>& order = {});

}  // namespace multidb::gateway
