#include "core/prompt.hpp"

#include "core/hash.hpp"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

// What an error in a repair request looks like (core/repair_error.hpp), so that a mask is not read as a value.
constexpr const char* kErrorForm =
    "(An error begins with its SQLSTATE and condition name; a value it quoted may be masked as \"\xE2\x80\xA6\".)\n";

std::string rules(const std::vector<std::string>& databases) {
  std::string names;
  for (const std::string& name : databases) names += (names.empty() ? "\"" : ", \"") + name + "\"";
  return "You translate questions into SQL for PostgreSQL databases. The databases you may use are: " + names +
         ".\n"
         "Rules:\n"
         "- Write PostgreSQL SQL. For each database you use, write exactly one read-only SELECT statement "
         "(WITH, VALUES and UNION are fine). Never write INSERT, UPDATE, DELETE, MERGE, DDL, GRANT, SET, COPY, "
         "locking clauses or more than one statement, and call no function with side effects.\n"
         "- Use only the databases listed above, by their exact names. You may use a subset of them.\n"
         "- A table exists only in the database whose schema lists it. Each statement runs on its own database: "
         "it cannot join tables of another database.\n"
         "- When the same figures are asked of several databases, give the columns the same aliases everywhere.\n"
         "- When the answer needs the results of several databases together (rows in one database missing from "
         "another, a ranking or total across databases), add \"combine\": one SELECT that multidb runs after the "
         "per-database statements. In it, the result of each database's statement is a table named exactly "
         "like that database (double-quote the name unless it is lower case letters, digits and underscores), "
         "with the columns your statement returned. The combine step reads only those tables (and its own WITH "
         "queries), never the databases' tables, and only its rows are returned. It may use operators, aggregates, "
         "window functions and functions on values (date and time, text formatting, JSON, arrays, casts), but no "
         "function that reads the server (its catalog, settings, statistics, sessions, files or version) and no "
         "cast to regclass or the other reg* types. Leave \"combine\" out when the rows of each database answer the "
         "question as they are.\n"
         "- Answer with ONLY a JSON object, no other text:\n"
         "{\"queries\": [{\"database\": \"<name>\", \"sql\": \"<one SELECT>\"}], "
         "\"combine\": \"<optional: one SELECT over the tables named after the databases>\", "
         "\"explanation\": \"<one or two sentences>\"}";
}

}  // namespace

std::vector<ChatMessage> build_plan_prompt(const PromptInput& input) {
  std::vector<ChatMessage> messages;
  messages.push_back({"system", rules(input.databases)});
  messages.push_back({"system", "The schema of the databases (every table carries its database's name):\n" +
                                    input.combined_schema});
  for (const Exchange& exchange : input.history) {
    messages.push_back({"user", exchange.question});
    messages.push_back({"assistant", exchange.answer});
  }
  messages.push_back({"user", input.question});
  return messages;
}

std::vector<ChatMessage> build_repair_prompt(const PromptInput& input, const std::string& previous_reply,
                                             const std::vector<std::pair<PlannedQuery, std::string>>& failures) {
  std::vector<ChatMessage> messages = build_plan_prompt(input);
  messages.push_back({"assistant", previous_reply});
  std::string report = "Some statements failed:\n";
  for (const auto& [query, error] : failures)
    report += "- database \"" + query.database + "\", SQL: " + query.sql + "\n  error: " + error + "\n";
  report += kErrorForm;
  report +=
      "Answer again with a corrected plan in the same JSON format. Only the failed databases need new SQL.";
  messages.push_back({"user", report});
  return messages;
}

std::vector<ChatMessage> build_combine_repair_prompt(const PromptInput& input, const std::string& previous_reply,
                                                     const std::string& combine_sql, const std::string& error,
                                                     const std::string& step_tables) {
  std::vector<ChatMessage> messages = build_plan_prompt(input);
  messages.push_back({"assistant", previous_reply});
  messages.push_back({"user", "Every database's statement ran, but the combine step failed.\nSQL: " + combine_sql +
                                  "\nerror: " + error + "\nThe tables it could read: " + step_tables + "\n" +
                                  kErrorForm +
                                  "Answer again with the whole corrected plan (queries and combine) in the same JSON "
                                  "format."});
  return messages;
}

std::string plan_cache_key_material(const std::vector<ChatMessage>& messages, const std::string& model) {
  nlohmann::json canonical = nlohmann::json::array();
  for (const ChatMessage& m : messages) canonical.push_back({m.role, m.content});
  return nlohmann::json{{"model", model}, {"messages", canonical}}.dump();
}

}  // namespace multidb
