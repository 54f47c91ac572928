#include "core/plan_parser.hpp"

#include "core/llm_protocol.hpp"
#include "core/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string_view>
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

std::string attached_list(const std::vector<std::string>& attached) {
  std::string list;
  for (const std::string& name : attached) list += (list.empty() ? "" : ", ") + name;
  return list;
}

[[noreturn]] void fail(const std::string& what, const std::string& reply, const std::vector<std::string>& attached) {
  throw PlanError(what + "; attached: " + attached_list(attached) + ". The reply began: " + text_start(trim(reply)));
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

// The plain form: DATABASE: name, then SQL (maybe fenced) until the next DATABASE: line; a COMBINE: line
// starts the combine step's SQL the same way.
std::optional<Plan> parse_plain(const std::string& reply, const std::vector<std::string>& attached) {
  std::istringstream lines(reply);
  std::string line;
  Plan plan;
  enum class Block { kNone, kQuery, kCombine } block = Block::kNone;
  bool in_fence = false, fence_closed = false, combine_seen = false;
  std::string sql;
  auto finish_block = [&] {
    if (block == Block::kQuery) plan.queries.back().sql = clean_sql(sql);
    if (block == Block::kCombine) plan.combine = clean_sql(sql);
    sql.clear();
    in_fence = fence_closed = false;
  };
  while (std::getline(lines, line)) {
    std::string stripped = trim(line);
    if (!in_fence && lower(stripped.substr(0, 9)) == "database:") {
      finish_block();
      plan.queries.push_back({trim(stripped.substr(9)), ""});
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
  if (plan.queries.empty() && !combine_seen) return std::nullopt;
  return plan;
}

Plan plan_from_object(const json& object) {
  Plan plan;
  const json& queries = object.at("queries");
  if (!queries.is_array()) throw PlanError("\"queries\" is not a list");
  for (const json& q : queries) {
    if (!q.is_object() || !q.contains("database") || !q.contains("sql") || !q["database"].is_string() ||
        !q["sql"].is_string())
      throw PlanError("a query is not {\"database\": \"...\", \"sql\": \"...\"}");
    plan.queries.push_back({q["database"].get<std::string>(), q["sql"].get<std::string>()});
  }
  if (object.contains("combine") && !object["combine"].is_null()) {
    if (!object["combine"].is_string()) throw PlanError("\"combine\" is not one SQL statement (a string)");
    plan.combine = object["combine"].get<std::string>();  // "" is none: structured output always sends the key
  }
  if (object.contains("explanation") && object["explanation"].is_string())
    plan.explanation = object["explanation"].get<std::string>();
  return plan;
}

}  // namespace

Plan parse_plan(const std::string& reply_text, const std::vector<std::string>& attached) {
  Plan plan;
  std::optional<json> object = find_plan_object(reply_text);
  if (object) {
    try {
      plan = plan_from_object(*object);
    } catch (const std::exception& e) {
      fail(std::string("the LLM's plan is malformed: ") + e.what(), reply_text, attached);
    }
  } else if (std::optional<Plan> plain = parse_plain(reply_text, attached)) {
    plan = *plain;
  } else if (reply_text.find('{') == std::string::npos) {
    // Prose and no brace at all: the model did not try to plan (it declined, or answered the question itself).
    fail("the LLM's reply holds no plan: the model answered in prose (it may have declined the question)",
         reply_text, attached);
  } else {
    fail("the LLM's reply holds no plan (neither the JSON form nor DATABASE: blocks)", reply_text, attached);
  }
  if (plan.queries.empty()) fail("the LLM's plan has no queries", reply_text, attached);
  // SQL goes to servers and into the history as text: a NUL would cut it short, invalid UTF-8 would not
  // read the same everywhere.
  auto check_text = [&](const std::string& text, const std::string& what) {
    if (text.find('\0') != std::string::npos) fail(what + " contains a NUL character", reply_text, attached);
    if (valid_utf8(text) != text) fail(what + " is not valid UTF-8", reply_text, attached);
  };
  for (const PlannedQuery& query : plan.queries)
    check_text(query.sql, "the SQL for database \"" + valid_utf8(query.database) + "\"");
  check_text(plan.combine, "the combine step");
  std::vector<std::string> seen;
  for (PlannedQuery& query : plan.queries) {
    auto match = std::find_if(attached.begin(), attached.end(),
                              [&](const std::string& name) { return lower(name) == lower(trim(query.database)); });
    if (match == attached.end())
      fail("the plan names database \"" + valid_utf8(query.database) + "\", which is not attached", reply_text, attached);
    query.database = *match;
    query.sql = clean_sql(query.sql);
    if (query.sql.empty()) fail("the plan gives no SQL for database \"" + query.database + "\"", reply_text, attached);
    if (std::find(seen.begin(), seen.end(), query.database) != seen.end())
      fail("the plan names database \"" + query.database + "\" twice", reply_text, attached);
    seen.push_back(query.database);
  }
  plan.combine = clean_sql(plan.combine);
  // The explanation is only shown and stored: what is not UTF-8 in it is replaced (found by fuzzing: it made
  // plan_to_json throw).
  plan.explanation = valid_utf8(trim(plan.explanation));
  return plan;
}

std::string plan_to_json(const Plan& plan) {
  json queries = json::array();
  for (const PlannedQuery& q : plan.queries) queries.push_back({{"database", q.database}, {"sql", q.sql}});
  json object{{"queries", queries}, {"explanation", plan.explanation}};
  if (!plan.combine.empty()) object["combine"] = plan.combine;
  return object.dump();
}

Plan plan_from_json(const std::string& json_text) {
  json object = json::parse(json_text, nullptr, false);
  if (object.is_discarded() || !object.is_object() || !object.contains("queries"))
    throw PlanError("a stored plan is not a plan");
  try {
    return plan_from_object(object);
  } catch (const json::exception& e) {
    throw PlanError(std::string("a stored plan is not a plan: ") + e.what());
  }
}

}  // namespace multidb
