// Reads an LLM's reply into a plan: which databases, which SQL on each, and why; a statement written once for a
// set of databases (a group, a list, or every attached database) is expanded to one statement per member.
#pragma once

#include "core/database_names.hpp"

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

// The combine step's relation of the rows of every database the plan reaches ("*").
constexpr const char* kAllDatabasesRelation = "all_databases";

// A statement the plan wrote once for a set of databases, as written and as expanded.
struct PlanSet {
  std::vector<std::string> databases;  // as written, in the attached spelling: {"@tenants"}, {"*"}, {"a", "b"}
  std::string sql;
  std::vector<std::string> members;    // the databases it reaches, in the attached order
  // The combine step's relation of the members' rows (source_db text, then their columns): a group's name
  // without '@' for a set of one group ("tenants"), kAllDatabasesRelation for "*", empty for any other list.
  std::string relation;
};

struct Plan {
  std::vector<PlannedQuery> queries;  // one per database: the sets expanded, in the order written
  std::string combine;  // optional: one SELECT run locally over the per-database results
  std::string explanation;
  std::vector<PlanSet> sets;  // the entries written for a set of databases (their statements are in queries)
};

class PlanError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The JSON form {"queries": [{"database", "sql"}], "combine", "explanation"} (fenced or amid prose), or the
// plain form: blocks "DATABASE: name" (and at most one "COMBINE:") followed by SQL, possibly fenced. Names
// match `attached` case-insensitively and come back in the attached spelling. Errors quote the reply's start and
// list the attached databases (compactly when the plain list is long) and groups.
//
// Sets: an entry {"databases": [...], "sql"} (or "database": "@g" / "*", or the plain form's "DATABASE: @g" /
// "DATABASE: *") names a set: groups '@g' of `groups` (the ask's attached groups; their members must be attached),
// attached database names, or the single element "*" (every attached database). It is expanded to one query per
// member, in the attached order, and kept in plan.sets. A PlanError names an unknown or unattached group or
// database, a set with no members, a database the plan reaches twice (by two sets, or by a set and by name), a
// set relation named like a database of the plan, and an expansion past kMaxExpandedSqlBytes.
// A reply that carries "sets" beside its queries (a stored plan shown back to the model) keeps those sets whose
// members all have a query. Linear in the reply and in the number of attached databases and names listed.
constexpr std::size_t kMaxExpandedSqlBytes = 64u << 20;
Plan parse_plan(const std::string& reply_text, const std::vector<std::string>& attached,
                const std::vector<DatabaseGroup>& groups = {});

// {"queries": [expansion], "explanation", "combine"?, "sets"?: [{"databases", "sql", "relation" (null: none),
// "members"}]}: "sets" only when the plan has some, so that a plan without sets is written as it always was.
std::string plan_to_json(const Plan& plan);
// A stored plan (plan_to_json's, or one written by hand in that form): "queries" name one database each; "sets",
// when present, must list members that have a query, and relations that are unique and no database's name.
Plan plan_from_json(const std::string& json_text);

}  // namespace multidb
