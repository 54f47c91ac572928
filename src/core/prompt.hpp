// What multidb tells the LLM: the rules, the combined schema, the conversation so far, the question.
//
// The rules name the databases compactly (prompt_database_list) and, when there are several databases or a group,
// say how a plan names a set of them in one entry ({"databases": ["@tenants"], "sql": ...}, a list of names, or
// ["*"]) and how the combine step reads a set's rows (one table named as the group without "@", or all_databases
// for "*", with source_db first).
#pragma once

#include "core/database_names.hpp"
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"

#include <cstddef>
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
  std::vector<DatabaseGroup> groups;   // the groups the ask attached ("@tenants"), each with its members
};

// The rules' list of databases: each group as "the group @tenants (t0001 … t1000, 1,000 databases)", then the
// databases no group holds, quoted as they are ("production", "backup") up to kMaxNamesQuoted of them, else
// written compactly (core/database_names); never one name per database of a large fleet.
constexpr std::size_t kMaxNamesQuoted = 30;
std::string prompt_database_list(const PromptInput& input);

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
