#include "core/prompt.hpp"

#include "core/database_names.hpp"
#include "core/hash.hpp"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <set>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

// What an error in a repair request looks like (core/repair_error.hpp), so that a mask is not read as a value.
constexpr const char* kErrorForm =
    "(An error begins with its SQLSTATE and condition name; a value it quoted may be masked as \"\xE2\x80\xA6\".)\n";

std::string bare_group_name(const std::string& name) { return name.empty() || name[0] != '@' ? name : name.substr(1); }

// The groups whose members are attached, each with only its attached members, in order, once each.
std::vector<DatabaseGroup> attached_groups(const PromptInput& input) {
  std::set<std::string> attached(input.databases.begin(), input.databases.end());
  std::set<std::string> seen;
  std::vector<DatabaseGroup> groups;
  for (const DatabaseGroup& group : input.groups) {
    std::string name = bare_group_name(group.name);
    if (name.empty() || !seen.insert(name).second) continue;
    DatabaseGroup kept{name, {}};
    for (const std::string& member : group.members)
      if (attached.count(member)) kept.members.push_back(member);
    if (!kept.members.empty()) groups.push_back(std::move(kept));
  }
  return groups;
}

// Whether the rules about database sets are worth their words: several databases, or a group.
bool sets_apply(const PromptInput& input) { return input.databases.size() > 1 || !attached_groups(input).empty(); }

std::string rules(const PromptInput& input) {
  std::vector<DatabaseGroup> groups = attached_groups(input);
  bool sets = sets_apply(input);
  std::string example_group = groups.empty() ? "" : "@" + groups[0].name;
  std::string example_relation = groups.empty() ? "" : groups[0].name;

  std::string text =
      "You translate questions into SQL for PostgreSQL databases. The databases you may use are: " +
      prompt_database_list(input) +
      ".\n"
      "Rules:\n"
      "- Write PostgreSQL SQL. For each database you use, write exactly one read-only SELECT statement "
      "(WITH, VALUES and UNION are fine). Never write INSERT, UPDATE, DELETE, MERGE, DDL, GRANT, SET, COPY, "
      "locking clauses or more than one statement, and call no function with side effects.\n"
      "- Use only the databases listed above, by their exact names" +
      std::string(groups.empty() ? "" : " (a group by its name with \"@\")") +
      ". You may use a subset of them.\n"
      "- A table exists only in the database whose schema lists it. Each statement runs on its own database: "
      "it cannot join tables of another database.\n";
  if (sets) {
    text += "- An entry of \"queries\" may name a set of databases instead of one: {\"databases\": [...], \"sql\": "
            "\"<one SELECT>\"} runs that statement on each of them. The set is ";
    if (!groups.empty())
      text += "a group listed above ([\"" + example_group + "\"]: each of its members), ";
    text += "a list of databases ([\"<name>\", \"<name>\"]) or [\"*\"] (every database listed above). When the "
            "statement is the same for several databases, write one entry for the set, not one entry per database. "
            "A database is reached by one entry only (by its name or through one set).\n";
  }
  text +=
      "- When the same figures are asked of several databases, give the columns the same aliases everywhere.\n"
      "- When the answer needs the results of several databases together (rows in one database missing from "
      "another, a ranking or total across databases), add \"combine\": one SELECT that multidb runs after the "
      "per-database statements. In it, the result of each database's statement is a table named exactly "
      "like that database (double-quote the name unless it is lower case letters, digits and underscores), "
      "with the columns your statement returned.";
  if (sets) {
    text += " The rows of a set are also one table, with source_db (the database's name) as its first column, then "
            "the columns your statement returned: ";
    if (!groups.empty()) text += "a group's is named like the group without \"@\" (" + example_relation + "), ";
    text += "[\"*\"]'s is all_databases (a list of databases has none); read it rather than a UNION of the "
            "databases' tables.";
  }
  text +=
      " The combine step reads only those tables (and its own WITH "
      "queries), never the databases' tables, and only its rows are returned. It may use operators, aggregates, "
      "window functions and functions on values (date and time, text formatting, JSON, arrays, casts), but no "
      "function that reads the server (its catalog, settings, statistics, sessions, files or version) and no "
      "cast to regclass or the other reg* types. Leave \"combine\" out when the rows of each database answer the "
      "question as they are.\n"
      "- Answer with ONLY a JSON object, no other text:\n"
      "{\"queries\": [{\"database\": \"<name>\", \"sql\": \"<one SELECT>\"}" +
      std::string(sets ? ", {\"databases\": [\"<" + std::string(groups.empty() ? "" : "@group, ") +
                             "names or *>\"], \"sql\": \"<one SELECT>\"}"
                       : "") +
      "], "
      "\"combine\": \"<optional: one SELECT over the tables named after the databases" +
      std::string(sets ? " and sets" : "") +
      ">\", "
      "\"explanation\": \"<one or two sentences>\"}";
  return text;
}

}  // namespace

std::string prompt_database_list(const PromptInput& input) {
  std::vector<DatabaseGroup> groups = attached_groups(input);
  std::set<std::string> grouped;
  std::string text;
  for (const DatabaseGroup& group : groups) {
    CompactNames names = compact_database_names(group.members, {}, kDefaultMaxNamesBytes);
    text += std::string(text.empty() ? "" : ", ") + "the group @" + group.name + " (" + names.text + ", " +
            with_thousands_separator(names.count) + (names.count == 1 ? " database)" : " databases)");
    grouped.insert(group.members.begin(), group.members.end());
  }
  std::vector<std::string> others;
  std::set<std::string> seen;
  for (const std::string& name : input.databases)
    if (!grouped.count(name) && seen.insert(name).second) others.push_back(name);
  if (others.empty()) return text;
  if (!text.empty()) text += groups.size() == 1 && others.size() == 1 ? " and " : ", and ";
  if (others.size() <= kMaxNamesQuoted) {
    for (std::size_t i = 0; i < others.size(); i++) text += (i ? ", \"" : "\"") + others[i] + "\"";
  } else {
    text += compact_database_names(others, {}, kDefaultMaxNamesBytes).text + " (" + with_thousands_separator(others.size()) +
            " databases)";
  }
  return text;
}

std::vector<ChatMessage> build_plan_prompt(const PromptInput& input) {
  std::vector<ChatMessage> messages;
  messages.push_back({"system", rules(input)});
  messages.push_back({"system", "The schema of the databases (every table carries its database's name, or follows a line naming the "
                                "databases that share it):\n" +
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
