#include "core/plan_parser.hpp"

#include "core/llm_protocol.hpp"
#include "core/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using nlohmann::json;

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string group_name(const std::string& name) { return !name.empty() && name[0] == '@' ? name.substr(1) : name; }

std::string trim(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(start, end - start + 1);
}

std::string clean_sql(const std::string& sql) {
  std::string result = trim(sql);
  if (!result.empty() && result.back() == ';') result = trim(result.substr(0, result.size() - 1));
  return result;
}

constexpr size_t kMaxListedBytes = 400;

// The attached databases for a message: as attached when that is short, else compactly (ranges, a group's name,
// "and N more"), so that a message stays short at a thousand databases. Then the attached groups.
std::string attached_list(const std::vector<std::string>& attached, const std::vector<DatabaseGroup>& groups) {
  std::string list;
  for (const std::string& name : attached) {
    list += (list.empty() ? "" : ", ") + name;
    if (list.size() > kMaxListedBytes) break;
  }
  if (list.size() > kMaxListedBytes) {
    DatabaseGroup whole;  // the group whose members are exactly the attached databases, if one is
    for (const DatabaseGroup& group : groups)
      if (group.members.size() == attached.size()) whole = group;
    list = compact_database_names(attached, whole, kMaxListedBytes).text;
  }
  if (groups.empty()) return list;
  std::string names;
  size_t listed = 0;
  for (const DatabaseGroup& group : groups) {
    if (names.size() > kMaxListedBytes / 2) break;
    names += (names.empty() ? "@" : ", @") + group_name(group.name) + " (" + std::to_string(group.members.size()) +
             (group.members.size() == 1 ? " database)" : " databases)");
    listed++;
  }
  if (listed < groups.size()) names += " and " + std::to_string(groups.size() - listed) + " more";
  return list + "; attached groups: " + names;
}

[[noreturn]] void fail(const std::string& what, const std::string& reply, const std::vector<std::string>& attached,
                       const std::vector<DatabaseGroup>& groups = {}) {
  throw PlanError(what + "; attached: " + attached_list(attached, groups) + ". The reply began: " +
                  text_start(trim(reply)));
}

// The first balanced {...} that parses as JSON with "queries", outermost first. One pass pairs every brace
// (quotes count only inside braces, so prose around the JSON cannot flip the reading), then candidates are
// tried in order of their start. An object that parses is searched as a tree (never parsed again piece by
// piece), and candidates inside one that did not parse are skipped once kMaxParseAttempts were tried or
// kMaxParsedBytesPerInputByte times the reply was read: a reply of nested braces costs linear time, not
// quadratic, and the outcome for a real reply is the same.
constexpr size_t kMaxParseAttempts = 64;
constexpr size_t kMaxParsedBytesPerInputByte = 4;

// Whether each character of JSON text lies inside a string literal: fed one character at a time, after the
// opening quote and up to the closing one (a backslash escapes the next character).
struct JsonStringTracker {
  bool in_string = false;
  bool escaped = false;

  // Steps past c, which lies inside the string; in_string turns false at the closing quote.
  void step_inside(char c) {
    if (escaped) escaped = false;
    else if (c == '\\') escaped = true;
    else if (c == '"') in_string = false;
  }
};

// The slips models commonly make in JSON, mended: a raw line break or tab inside a string, a comma before } or ].
// Nothing else is guessed; what still does not parse is no plan.
std::string without_json_slips(std::string_view text) {
  std::string mended;
  mended.reserve(text.size() + 16);
  JsonStringTracker quotes;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (quotes.in_string) {
      bool raw = !quotes.escaped;
      quotes.step_inside(c);
      if (raw && c == '\n') mended += "\\n";
      else if (raw && c == '\r') mended += "\\r";
      else if (raw && c == '\t') mended += "\\t";
      else mended += c;
      continue;
    }
    if (c == '"') {
      quotes.in_string = true;
    } else if (c == ',') {
      size_t next = text.find_first_not_of(" \t\r\n", i + 1);
      if (next != std::string_view::npos && (text[next] == '}' || text[next] == ']')) continue;
    }
    mended += c;
  }
  return mended;
}

const json* plan_within(const json& root) {
  std::vector<const json*> pending = {&root};  // breadth first: the outermost plan wins
  for (size_t next = 0; next < pending.size(); next++) {
    const json* node = pending[next];
    if (node->is_object()) {
      if (node->contains("queries")) return node;
      for (const auto& item : node->items()) pending.push_back(&item.value());
    } else if (node->is_array()) {
      for (const json& element : *node) pending.push_back(&element);
    }
  }
  return nullptr;
}

std::optional<json> find_plan_object(const std::string& text) {
  std::vector<std::pair<size_t, size_t>> objects;  // start, end of each balanced {...}, by start
  std::vector<size_t> open;
  JsonStringTracker quotes;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (quotes.in_string) {
      quotes.step_inside(c);
      continue;
    }
    if (c == '"' && !open.empty()) {
      quotes.in_string = true;
    } else if (c == '{') {
      open.push_back(i);
      objects.push_back({i, std::string::npos});
    } else if (c == '}' && !open.empty()) {
      size_t start = open.back();
      open.pop_back();
      auto at = std::lower_bound(objects.begin(), objects.end(), std::make_pair(start, size_t{0}));
      at->second = i;
    }
  }
  size_t attempts = 0, parsed_bytes = 0, covered_until = 0;
  for (const auto& [start, end] : objects) {
    if (end == std::string::npos || start < covered_until) continue;  // unbalanced, or inside a parsed object
    if (attempts++ >= kMaxParseAttempts || parsed_bytes > kMaxParsedBytesPerInputByte * text.size()) break;
    parsed_bytes += end - start + 1;
    json candidate = json::parse(text.begin() + start, text.begin() + end + 1, nullptr, false);
    if (candidate.is_discarded()) {
      parsed_bytes += end - start + 1;
      candidate = json::parse(without_json_slips(std::string_view(text).substr(start, end - start + 1)), nullptr, false);
    }
    if (candidate.is_discarded()) continue;
    covered_until = end + 1;
    if (const json* plan = plan_within(candidate)) return *plan;
  }
  return std::nullopt;
}

// What a reply or a stored plan wrote, before any name is matched: entries for one database or for a set.
struct Entry {
  std::vector<std::string> names;  // one database's name, or a set's elements as written
  bool is_set = false;
  std::string sql;
};

struct WrittenPlan {
  std::vector<Entry> entries;
  std::string combine;
  std::string explanation;
  std::vector<PlanSet> sets;  // "sets" as a stored plan lists them
};

bool names_a_set(const std::string& name) {
  std::string written = trim(name);
  return written == "*" || (!written.empty() && written[0] == '@');
}

// The plain form: DATABASE: name (or @group, or *), then SQL (maybe fenced) until the next DATABASE: line; a
// COMBINE: line starts the combine step's SQL the same way.
std::optional<WrittenPlan> parse_plain(const std::string& reply, const std::vector<std::string>& attached) {
  std::istringstream lines(reply);
  std::string line;
  WrittenPlan plan;
  enum class Block { kNone, kQuery, kCombine } block = Block::kNone;
  bool in_fence = false, fence_closed = false, combine_seen = false;
  std::string sql;
  auto finish_block = [&] {
    if (block == Block::kQuery) plan.entries.back().sql = clean_sql(sql);
    if (block == Block::kCombine) plan.combine = clean_sql(sql);
    sql.clear();
    in_fence = fence_closed = false;
  };
  while (std::getline(lines, line)) {
    std::string stripped = trim(line);
    if (!in_fence && lower(stripped.substr(0, 9)) == "database:") {
      finish_block();
      std::string name = trim(stripped.substr(9));
      plan.entries.push_back({{name}, names_a_set(name), ""});
      block = Block::kQuery;
      continue;
    }
    if (!in_fence && lower(stripped.substr(0, 8)) == "combine:") {
      finish_block();
      if (combine_seen) fail("the plan has more than one COMBINE: block", reply, attached);
      combine_seen = true;
      block = Block::kCombine;
      sql = stripped.substr(8) + "\n";  // the SQL may start on the same line
      continue;
    }
    if (!in_fence && lower(stripped.substr(0, 12)) == "explanation:") {
      plan.explanation += (plan.explanation.empty() ? "" : " ") + trim(stripped.substr(12));
      continue;
    }
    if (block == Block::kNone) continue;
    if (stripped.rfind("```", 0) == 0) {
      if (!in_fence && !fence_closed && trim(sql).empty()) {
        in_fence = true;
      } else if (in_fence) {
        in_fence = false;
        fence_closed = true;
      }
      continue;
    }
    if (fence_closed) {  // text after a fenced block is explanation
      if (!stripped.empty()) plan.explanation += (plan.explanation.empty() ? "" : " ") + stripped;
      continue;
    }
    sql += line + "\n";
  }
  finish_block();
  if (plan.entries.empty() && !combine_seen) return std::nullopt;
  return plan;
}

std::vector<std::string> string_list(const json& list, const char* what) {
  if (!list.is_array()) throw PlanError(std::string(what) + " is not a list of names");
  std::vector<std::string> names;
  names.reserve(list.size());
  for (const json& name : list) {
    if (!name.is_string()) throw PlanError(std::string(what) + " holds something other than a name");
    names.push_back(name.get<std::string>());
  }
  return names;
}

// stored: a stored plan, whose queries name one database each and whose sets are listed under "sets".
WrittenPlan plan_from_object(const json& object, bool stored) {
  WrittenPlan plan;
  const json& queries = object.at("queries");
  if (!queries.is_array()) throw PlanError("\"queries\" is not a list");
  for (const json& q : queries) {
    if (!q.is_object() || !q.contains("sql") || !q["sql"].is_string())
      throw PlanError("a query is not {\"database\": \"...\", \"sql\": \"...\"}");
    bool one = q.contains("database"), set = q.contains("databases");
    if (one && set) throw PlanError("a query gives both \"database\" and \"databases\"");
    if (set && !stored) {
      std::vector<std::string> names = string_list(q["databases"], "a query's \"databases\"");
      plan.entries.push_back({std::move(names), true, q["sql"].get<std::string>()});
      continue;
    }
    if (set) throw PlanError("a stored plan's queries name one database each (its sets are under \"sets\")");
    if (!one || !q["database"].is_string()) throw PlanError("a query is not {\"database\": \"...\", \"sql\": \"...\"}");
    std::string name = q["database"].get<std::string>();
    bool is_set = !stored && names_a_set(name);
    plan.entries.push_back({{std::move(name)}, is_set, q["sql"].get<std::string>()});
  }
  if (object.contains("combine") && !object["combine"].is_null()) {
    if (!object["combine"].is_string()) throw PlanError("\"combine\" is not one SQL statement (a string)");
    plan.combine = object["combine"].get<std::string>();  // "" is none: structured output always sends the key
  }
  if (object.contains("explanation") && object["explanation"].is_string())
    plan.explanation = object["explanation"].get<std::string>();
  if (object.contains("sets") && !object["sets"].is_null()) {
    const json& sets = object["sets"];
    if (!sets.is_array()) throw PlanError("\"sets\" is not a list");
    for (const json& s : sets) {
      if (!s.is_object() || !s.contains("databases") || !s.contains("sql") || !s["sql"].is_string())
        throw PlanError("a set is not {\"databases\": [...], \"sql\": \"...\", \"relation\", \"members\": [...]}");
      PlanSet set;
      set.databases = string_list(s["databases"], "a set's \"databases\"");
      set.sql = s["sql"].get<std::string>();
      if (s.contains("members")) set.members = string_list(s["members"], "a set's \"members\"");
      if (s.contains("relation") && !s["relation"].is_null()) {
        if (!s["relation"].is_string()) throw PlanError("a set's \"relation\" is not a name");
        set.relation = s["relation"].get<std::string>();
      }
      plan.sets.push_back(std::move(set));
    }
  }
  return plan;
}

// A name as an error message shows it: valid UTF-8 and short, whatever the reply held.
std::string shown(const std::string& name) { return valid_utf8(text_start(name, 80)); }

// "@tenants", "*", or "[a, b, c]": a set as a message names it, short.
std::string set_label(const std::vector<std::string>& written) {
  if (written.size() == 1 && names_a_set(written[0])) return shown(trim(written[0]));
  std::string label;
  for (const std::string& name : written) {
    if (label.size() > 80) return "[" + label + ", ... (" + std::to_string(written.size()) + " names)]";
    label += (label.empty() ? "" : ", ") + shown(trim(name));
  }
  return "[" + label + "]";
}

// Matches names to the attached databases and groups, expands the sets, and checks that no database is reached
// twice. Hash lookups throughout: a list of 100,000 names costs what it reads.
class Resolver {
 public:
  Resolver(const std::string& reply, const std::vector<std::string>& attached, const std::vector<DatabaseGroup>& groups)
      : reply_(reply), attached_(attached), groups_(groups), reached_(attached.size()) {
    for (size_t i = 0; i < attached.size(); i++) by_name_.emplace(lower(attached[i]), i);
    for (size_t g = 0; g < groups.size(); g++) group_by_name_.emplace(lower(group_name(groups[g].name)), g);
  }

  [[noreturn]] void error(const std::string& what) const { fail(what, reply_, attached_, groups_); }

  size_t database(const std::string& written, const std::string& where) const {
    auto match = by_name_.find(lower(trim(written)));
    if (match == by_name_.end())
      error("the plan names database \"" + shown(written) + "\"" + where + ", which is not attached");
    return match->second;
  }

  // The indexes of the databases a set reaches, in the attached order; written becomes the attached spelling.
  std::vector<size_t> members(std::vector<std::string>& written) const {
    std::string label = set_label(written);
    if (written.empty()) error("the plan names an empty set of databases");
    std::vector<char> in_set(attached_.size(), 0);
    std::vector<size_t> indexes;
    auto add = [&](size_t index) {
      if (in_set[index]) error("the set " + label + " names database \"" + attached_[index] + "\" twice");
      in_set[index] = 1;
      indexes.push_back(index);
    };
    for (std::string& name : written) {
      std::string element = trim(name);
      if (element == "*") {
        if (written.size() != 1)
          error("the set " + label + " lists \"*\" with other names: \"*\" alone is every attached database");
        for (size_t i = 0; i < attached_.size(); i++) add(i);
        name = "*";
      } else if (!element.empty() && element[0] == '@') {
        auto group = group_by_name_.find(lower(element.substr(1)));
        if (group == group_by_name_.end())
          error("the plan names the set \"" + shown(element) + "\", which is not an attached group");
        const DatabaseGroup& g = groups_[group->second];
        name = "@" + group_name(g.name);
        for (const std::string& member : g.members) add(database(member, " (a member of " + shown(name) + ")"));
      } else {
        add(database(element, " in the set " + label));
        name = attached_[indexes.back()];
      }
    }
    if (indexes.empty()) error("the set " + label + " has no databases (its group has no members)");
    std::sort(indexes.begin(), indexes.end());
    return indexes;
  }

  // Each database once in a plan: by name or through one set.
  void reach(size_t index, const std::string& through) {
    if (!reached_[index].empty())
      error("the plan reaches database \"" + attached_[index] + "\" twice (" + reached_[index] + ", and " + through +
            "): each database gets one statement");
    reached_[index] = through;
  }

 private:
  const std::string& reply_;
  const std::vector<std::string>& attached_;
  const std::vector<DatabaseGroup>& groups_;
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<std::string, size_t> group_by_name_;
  std::vector<std::string> reached_;  // how each database was reached, "" when not yet
};

std::string relation_of(const std::vector<std::string>& written) {
  if (written.size() != 1) return "";
  if (written[0] == "*") return kAllDatabasesRelation;
  if (!written[0].empty() && written[0][0] == '@') return written[0].substr(1);
  return "";
}

// Every set relation unique and no database's name (they are relations of the same combine step).
void check_relations(const Plan& plan, const std::function<void(const std::string&)>& error) {
  std::unordered_set<std::string> databases, relations;
  for (const PlannedQuery& query : plan.queries) databases.insert(query.database);
  for (const PlanSet& set : plan.sets) {
    if (set.relation.empty()) continue;
    if (databases.count(set.relation))
      error("the set " + set_label(set.databases) + " gives the combine step a relation \"" + shown(set.relation) +
            "\", which is also a database's: rename the group or name the databases one by one");
    if (!relations.insert(set.relation).second)
      error("two sets give the combine step the relation \"" + shown(set.relation) + "\"");
  }
}

}  // namespace

Plan parse_plan(const std::string& reply_text, const std::vector<std::string>& attached,
                const std::vector<DatabaseGroup>& groups) {
  WrittenPlan written;
  std::optional<json> object = find_plan_object(reply_text);
  if (object) {
    try {
      written = plan_from_object(*object, false);
    } catch (const std::exception& e) {
      fail(std::string("the LLM's plan is malformed: ") + e.what(), reply_text, attached, groups);
    }
  } else if (std::optional<WrittenPlan> plain = parse_plain(reply_text, attached)) {
    written = std::move(*plain);
  } else if (reply_text.find('{') == std::string::npos) {
    // Prose and no brace at all: the model did not try to plan (it declined, or answered the question itself).
    fail("the LLM's reply holds no plan: the model answered in prose (it may have declined the question)",
         reply_text, attached, groups);
  } else {
    fail("the LLM's reply holds no plan (neither the JSON form nor DATABASE: blocks)", reply_text, attached, groups);
  }
  if (written.entries.empty()) fail("the LLM's plan has no queries", reply_text, attached, groups);
  // SQL goes to servers and into the history as text: a NUL would cut it short, invalid UTF-8 would not
  // read the same everywhere.
  auto check_text = [&](const std::string& text, const std::string& what) {
    if (text.find('\0') != std::string::npos) fail(what + " contains a NUL character", reply_text, attached, groups);
    if (valid_utf8(text) != text) fail(what + " is not valid UTF-8", reply_text, attached, groups);
  };
  for (const Entry& entry : written.entries)
    check_text(entry.sql, entry.is_set ? "the SQL for the set " + set_label(entry.names)
                                       : "the SQL for database \"" + shown(entry.names.at(0)) + "\"");
  check_text(written.combine, "the combine step");

  Resolver resolver(reply_text, attached, groups);
  Plan plan;
  size_t expanded_bytes = 0;
  for (Entry& entry : written.entries) {
    std::string sql = clean_sql(entry.sql);
    if (!entry.is_set) {
      size_t index = resolver.database(entry.names.at(0), "");
      if (sql.empty()) resolver.error("the plan gives no SQL for database \"" + attached[index] + "\"");
      resolver.reach(index, "by name");
      expanded_bytes += sql.size();
      plan.queries.push_back({attached[index], sql});
      continue;
    }
    std::string label = set_label(entry.names);
    std::vector<size_t> members = resolver.members(entry.names);
    label = set_label(entry.names);  // in the attached spelling now
    if (sql.empty()) resolver.error("the plan gives no SQL for the set " + label);
    if (sql.size() > 0 && members.size() > (kMaxExpandedSqlBytes - expanded_bytes) / sql.size())
      resolver.error("the plan's statements for its sets would be more than " +
                     std::to_string(kMaxExpandedSqlBytes >> 20) + " MB of SQL once written for each database");
    expanded_bytes += sql.size() * members.size();
    PlanSet set{entry.names, sql, {}, relation_of(entry.names)};
    set.members.reserve(members.size());
    for (size_t index : members) {
      resolver.reach(index, "through the set " + label);
      plan.queries.push_back({attached[index], sql});
      set.members.push_back(attached[index]);
    }
    plan.sets.push_back(std::move(set));
  }
  // A stored plan shown back to the model may come back whole: its sets stand when their members have queries.
  if (!written.sets.empty()) {
    std::unordered_set<std::string> planned;
    for (const PlannedQuery& query : plan.queries) planned.insert(query.database);
    for (PlanSet& set : written.sets) {
      std::vector<size_t> members = resolver.members(set.databases);
      set.members.clear();
      for (size_t index : members) {
        if (!planned.count(attached[index]))
          resolver.error("the plan's set " + set_label(set.databases) + " reaches database \"" + attached[index] +
                         "\", which has no query");
        set.members.push_back(attached[index]);
      }
      set.sql = clean_sql(set.sql);
      set.relation = relation_of(set.databases);
      check_text(set.sql, "the SQL for the set " + set_label(set.databases));
      plan.sets.push_back(std::move(set));
    }
  }
  check_relations(plan, [&](const std::string& what) { resolver.error(what); });
  plan.combine = clean_sql(written.combine);
  // The explanation is only shown and stored: what is not UTF-8 in it is replaced (found by fuzzing: it made
  // plan_to_json throw).
  plan.explanation = valid_utf8(trim(written.explanation));
  return plan;
}

std::string plan_to_json(const Plan& plan) {
  json queries = json::array();
  for (const PlannedQuery& q : plan.queries) queries.push_back({{"database", q.database}, {"sql", q.sql}});
  json object{{"queries", queries}, {"explanation", plan.explanation}};
  if (!plan.combine.empty()) object["combine"] = plan.combine;
  if (!plan.sets.empty()) {
    json sets = json::array();
    for (const PlanSet& set : plan.sets)
      sets.push_back({{"databases", set.databases},
                      {"sql", set.sql},
                      {"relation", set.relation.empty() ? json() : json(set.relation)},
                      {"members", set.members}});
    object["sets"] = sets;
  }
  return object.dump();
}

Plan plan_from_json(const std::string& json_text) {
  json object = json::parse(json_text, nullptr, false);
  if (object.is_discarded() || !object.is_object() || !object.contains("queries"))
    throw PlanError("a stored plan is not a plan");
  WrittenPlan written;
  try {
    written = plan_from_object(object, true);
  } catch (const json::exception& e) {
    throw PlanError(std::string("a stored plan is not a plan: ") + e.what());
  } catch (const PlanError& e) {
    throw PlanError(std::string("a stored plan is not a plan: ") + e.what());
  }
  Plan plan;
  for (Entry& entry : written.entries) plan.queries.push_back({std::move(entry.names.at(0)), std::move(entry.sql)});
  plan.combine = std::move(written.combine);
  plan.explanation = std::move(written.explanation);
  std::unordered_set<std::string> planned;
  for (const PlannedQuery& query : plan.queries) planned.insert(query.database);
  for (PlanSet& set : written.sets) {
    if (set.members.empty())
      throw PlanError("a stored plan's set " + set_label(set.databases) + " lists no \"members\"");
    for (const std::string& member : set.members)
      if (!planned.count(member))
        throw PlanError("a stored plan's set " + set_label(set.databases) + " lists member \"" + shown(member) +
                        "\", which has no query");
    plan.sets.push_back(std::move(set));
  }
  check_relations(plan, [](const std::string& what) { throw PlanError("a stored plan is not a plan: " + what); });
  return plan;
}

}  // namespace multidb
