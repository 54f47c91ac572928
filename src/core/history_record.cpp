#include "core/history_record.hpp"

#include "core/text.hpp"

#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

std::string storable(const std::string& text, bool utf8_database) {
  std::string valid = valid_utf8(text);
  if (utf8_database) return valid;
  std::string ascii;
  ascii.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); i++) {
    unsigned char c = static_cast<unsigned char>(valid[i]);
    if (c < 0x80) {
      ascii += static_cast<char>(c);
    } else if ((c & 0xC0) != 0x80) {
      ascii += '?';  // one per character: continuation bytes add nothing
    }
  }
  return ascii;
}

// True when storable(text) would give text back: the common case, checked without copying.
bool already_storable(const std::string& text, bool utf8_database) {
  if (!utf8_database) {
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') return false;
    return true;
  }
  return is_valid_utf8(text);
}

// Iterative, so that a deeply nested reply cannot exhaust the stack. Only what needs it is rewritten: an ask's record
// is made at every ask, and its texts are nearly always storable already.
void make_storable(nlohmann::json& root, bool utf8_database) {
  std::vector<nlohmann::json*> pending = {&root};
  while (!pending.empty()) {
    nlohmann::json* node = pending.back();
    pending.pop_back();
    if (node->is_string()) {
      const std::string& text = node->get_ref<const std::string&>();
      if (!already_storable(text, utf8_database)) *node = storable(text, utf8_database);
    } else if (node->is_array()) {
      for (nlohmann::json& element : *node) pending.push_back(&element);
    } else if (node->is_object()) {
      bool keys_storable = true;
      for (auto& [key, value] : node->items()) keys_storable = keys_storable && already_storable(key, utf8_database);
      if (!keys_storable) {
        nlohmann::json renamed = nlohmann::json::object();
        for (auto& [key, value] : node->items()) renamed[storable(key, utf8_database)] = std::move(value);
        *node = std::move(renamed);
      }
      for (auto& [key, value] : node->items()) pending.push_back(&value);
    }
  }
}

}  // namespace

std::string history_record_text(nlohmann::json record, bool utf8_database) {
  make_storable(record, utf8_database);
  return record.dump();
}

const std::vector<std::string>& history_record_keys() {
  static const std::vector<std::string> keys = {
      "session_id", "question", "status",  "error",  "plan",  "attempts",      "databases_used",   "row_counts",
      "timings_ms", "answer",   "llm_ms",  "exec_ms", "total_ms", "cached", "model", "prompt_tokens", "completion_tokens",
      "llm_attempts"};
  return keys;
}

std::string history_record_text(const AskRecord& ask, bool utf8_database) {
  using nlohmann::json;
  auto optional_text = [](const std::optional<std::string>& text) { return text ? json(*text) : json(); };
  auto optional_document = [](const std::optional<std::string>& text) {
    if (!text) return json();
    json parsed = json::parse(*text, nullptr, false);
    return parsed.is_discarded() ? json(*text) : parsed;  // kept as text rather than lost
  };
  json record;
  record["session_id"] = optional_text(ask.session_id);
  record["question"] = ask.question;
  record["status"] = ask.status.empty() ? "error" : ask.status;
  record["error"] = optional_text(ask.error);
  record["plan"] = optional_document(ask.plan_json);
  record["attempts"] = optional_document(ask.attempts_json);
  record["llm_attempts"] = optional_document(ask.llm_attempts_json);
  json used = json::array(), rows = json::object(), timings = json::object();
  std::string answer = ask.explanation;
  for (size_t i = 0; i < ask.steps.size(); i++) {
    const AskStepRecord& step = ask.steps[i];
    used.push_back(step.database);
    answer += "\n" + step.database + ": " + step.sql;
    if (ask.steps_ran && i < ask.step_rows.size() && i < ask.step_ms.size()) {
      rows[step.database] = ask.step_rows[i];
      timings[step.database] = ask.step_ms[i];
      answer += "  -- " + std::to_string(ask.step_rows[i]) + " rows";
    }
  }
  if (ask.combine_sql) {
    used.push_back(ask.combined_source);
    answer += "\n" + ask.combined_source + ": " + *ask.combine_sql;
    if (ask.steps_ran && ask.status == "ok") {
      rows[ask.combined_source] = ask.combined_rows;
      timings[ask.combined_source] = ask.combine_ms;
      answer += "  -- " + std::to_string(ask.combined_rows) + " rows";
    }
  }
  if (ask.error) answer += (ask.status == "cancelled" ? "\nCancelled: " : "\nFailed: ") + *ask.error;
  record["databases_used"] = used;
  record["row_counts"] = rows;
  record["timings_ms"] = timings;
  record["answer"] = answer;
  record["llm_ms"] = ask.llm_ms;
  record["exec_ms"] = ask.exec_ms;
  record["total_ms"] = ask.total_ms;
  record["cached"] = optional_text(ask.cached);
  record["model"] = optional_text(ask.model);
  record["prompt_tokens"] = ask.prompt_tokens >= 0 ? json(ask.prompt_tokens) : json();
  record["completion_tokens"] = ask.completion_tokens >= 0 ? json(ask.completion_tokens) : json();
  return history_record_text(std::move(record), utf8_database);
}

}  // namespace multidb
