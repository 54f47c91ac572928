// The seed's multi-query answer, built from what multidb.ask returned (rows tagged with their database) and
// the ask's query_history row: database_results per database (connection_name, sql, row_count, rows, columns,
// execution_time_ms, error), the combine step's rows, explanation, history id, timings, cached. Pure.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace multidb::gateway {

// One row of multidb.ask: its source_db and its row_data.
using TaggedRow = std::pair<std::string, nlohmann::json>;

// history: the query_history row as JSON (id, plan, status, error, row_counts, timings_ms, llm_ms, exec_ms,
// total_ms, cached), or null when there is none.
nlohmann::json build_ask_result(const std::string& question, const nlohmann::json& session_id,
                                const std::vector<TaggedRow>& rows, const nlohmann::json& history);

// Columns of rows: every key in the order first met, with the JSON type its non-null values have ("number",
// "string", "boolean", "object", "array"; "mixed" when they differ; "null" when all are null).
nlohmann::json infer_columns(const nlohmann::json& rows);

}  // namespace multidb::gateway
