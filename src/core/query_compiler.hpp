// Compiles a query spec (core/query_spec) into SQL for each database, checked against each database's schema as
// the schema cache holds it: the table and every column must exist there (the schema cache lists only what the
// connection's role can read), and each operator, value and summary must fit the column's type there.
//
// What comes out is plain text SQL, judged by the guard like any statement:
//   - identifiers are always double-quoted ("public"."orders"."created_at"), with " doubled;
//   - values are quoted literals ('paid', '42', E'a\\b' when a backslash is in it: right whatever the server's
//     standard_conforming_strings) with no type spliced in: the remote resolves an untyped literal to the column's
//     own type, so one text serves databases whose column types differ; values are checked against the type
//     family first (a number for a numeric column, true/false for a boolean, ...), so a bad one is a SpecError
//     naming the field, not a remote error;
//   - fanout: one statement per database, the same text on every database;
//   - totals: per database the partial summaries (count, sum, min, max; avg as sum and count; count distinct by
//     grouping on the column too), then a combine step over the union of the databases' step tables that
//     merges them, sorts and limits; without summaries, the union of the rows, sorted and limited;
//   - compare: the same statement for a and b, compared on compare_key by multidb.compare.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/query_spec.hpp"
#include "core/schema_model.hpp"

namespace multidb {

// A spec naming a table or column a database lacks: SQLSTATE 42P01 (table) or 42703 (column); what() names it and
// the database.
class SpecSchemaError : public std::runtime_error {
 public:
  SpecSchemaError(std::string sqlstate, std::string database, std::string field, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)), database_(std::move(database)),
        field_(std::move(field)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& database() const { return database_; }
  const std::string& field() const { return field_; }

 private:
  std::string sqlstate_;
  std::string database_;
  std::string field_;
};

struct CompiledQuery {
  std::string database;
  std::string sql;
};

struct CompiledSpec {
  SpecMode mode = SpecMode::kFanout;
  std::vector<CompiledQuery> queries;       // one per database, in the order given
  std::string combine;                      // totals mode: the combine step; otherwise empty
  std::vector<std::string> output_columns;  // the answer's columns, in order
  std::string compare_a;                    // compare mode
  std::string compare_b;
  std::vector<std::string> compare_key;
  std::string description;                  // one line for people: "orders: count per created_at (month), 2 filters"
};

// The databases the spec runs on, expanded (groups to members, by the caller), each with its schema. In compare
// mode they must be exactly compare_a and compare_b. Throws SpecError (22023) or SpecSchemaError.
CompiledSpec compile_query_spec(const QuerySpec& spec, const std::vector<DatabaseSchema>& databases);

// The plan run_plan runs: {"queries": [{"database", "sql"}], "combine"} (combine only in totals mode).
std::string compiled_plan_json(const CompiledSpec& compiled);

// A SQL literal of any text: '...' with ' doubled, or E'...' with \ and ' doubled when a backslash is in it.
std::string sql_literal(const std::string& value);

// A double-quoted identifier with " doubled.
std::string sql_identifier(const std::string& name);

}  // namespace multidb
