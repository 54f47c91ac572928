// Reads an LLM's reply into a plan: which databases, which SQL on each, and why.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace multidb {

struct PlannedQuery {
  std::string database;
  std::string sql;
};

// The source_db of the rows a combine step produces.
constexpr const char* kCombinedSource = "combined";

struct Plan {
  std::vector<PlannedQuery> queries;
  std::string combine;  // optional: one SELECT run locally over the per-database results
  std::string explanation;
};

class PlanError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The JSON form {"queries": [{"database", "sql"}], "combine", "explanation"} (fenced or amid prose), or the
// plain form: blocks "DATABASE: name" (and at most one "COMBINE:") followed by SQL, possibly fenced. Names
// match `attached` case-insensitively and come back in the attached spelling. Errors quote the reply's start and list the attached databases.
Plan parse_plan(const std::string& reply_text, const std::vector<std::string>& attached);

std::string plan_to_json(const Plan& plan);
Plan plan_from_json(const std::string& json_text);

}  // namespace multidb
