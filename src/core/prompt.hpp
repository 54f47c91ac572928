// What multidb tells the LLM: the rules, the combined schema, the conversation so far, the question.
#pragma once

#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"

#include <string>
#include <utility>
#include <vector>

namespace multidb {

struct Exchange {
  std::string question;
  std::string answer;
};

struct PromptInput {
  std::vector<std::string> databases;  // attached, in order
  std::string combined_schema;
  std::vector<Exchange> history;       // oldest first
  std::string question;
};

std::vector<ChatMessage> build_plan_prompt(const PromptInput& input);

// The plan prompt, the previous reply, then what failed where, asking for a corrected plan.
std::vector<ChatMessage> build_repair_prompt(const PromptInput& input, const std::string& previous_reply,
                                             const std::vector<std::pair<PlannedQuery, std::string>>& failures);

// The plan prompt, the previous reply, then the combine step's failure and the tables it had ("production
// (id integer, total numeric), backup (...)"), asking for a whole corrected plan.
std::vector<ChatMessage> build_combine_repair_prompt(const PromptInput& input, const std::string& previous_reply,
                                                     const std::string& combine_sql, const std::string& error,
                                                     const std::string& step_tables);

// What the plan cache's key is made of: same messages and model, same text; different ones, different
// text (a JSON document, so no two inputs run together). The Postgres layer keys the cache by its SHA-256,
// so that no question can be crafted to collide with another role's.
std::string plan_cache_key_material(const std::vector<ChatMessage>& messages, const std::string& model);

}  // namespace multidb
