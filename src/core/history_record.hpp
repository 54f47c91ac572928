// The text of an ask's history record, whatever the LLM's reply or the remotes held: the record is JSON
// that Postgres's jsonb input always accepts, so that no ask loses its history row to an odd character.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace multidb {

// What an ask leaves in the history, whatever became of it. This file is the record's only producer; its one
// consumer is multidb._record_ask(jsonb) (sql/), which reads exactly history_record_keys().
struct AskStepRecord {
  std::string database;
  std::string sql;
};

struct AskRecord {
  std::optional<std::string> session_id;
  std::string question;
  std::string status;  // ok, partial, refused, error
  std::optional<std::string> error;
  std::optional<std::string> plan_json;      // the final plan document
  std::optional<std::string> attempts_json;  // every LLM round and what failed
  std::optional<std::string> llm_attempts_json;  // every HTTP request to the LLM: status, error, wait before it
  std::string explanation;
  std::vector<AskStepRecord> steps;
  bool steps_ran = false;            // rows and times below are known
  std::vector<long long> step_rows;  // per step, when steps_ran
  std::vector<double> step_ms;
  std::optional<std::string> combine_sql;
  std::string combined_source;  // the source_db of combined rows
  long long combined_rows = 0;
  double combine_ms = 0;
  double llm_ms = 0, exec_ms = 0, total_ms = 0;
  std::optional<std::string> cached;  // plan, result
  std::optional<std::string> model;
  long prompt_tokens = -1;  // -1: unknown
  long completion_tokens = -1;
};

// The keys of the record document, in the order it is written.
const std::vector<std::string>& history_record_keys();

// The record as text jsonb always accepts (below).
std::string history_record_text(const AskRecord& record, bool utf8_database);

// record as JSON text: every string (keys too) valid UTF-8 without NUL (jsonb refuses \u0000); for a
// database whose encoding is not UTF-8, every character outside ASCII becomes '?' (jsonb cannot store
// what the encoding lacks, and an ERROR there would lose the row).
std::string history_record_text(nlohmann::json record, bool utf8_database);

}  // namespace multidb
