// A query spec: what the visual query builder (and multidb.build_sql / multidb.build) asks of several databases,
// written as JSON instead of SQL: the connections, one table, columns, a filter tree, summaries grouped by
// columns, sort, limit, and a mode (fanout, totals, compare). This file owns the spec's shape and reads it; the
// compiler (core/query_compiler) turns a read spec into SQL per database against their schemas.
//
// The JSON form (docs/reference.md, "Building a query without SQL"):
//   {"connections": ["production", "@tenants"],            names or @groups (compare mode: may be omitted)
//    "table": "public.orders" | "orders" | {"schema": "public", "name": "orders"},
//    "columns": ["id", "status"],                          plain columns (no summaries); omitted: every column
//                                                          all the databases have, in the first one's order
//    "filter": {"and": [node, ...]} | {"or": [...]} | {"not": node}
//              | {"column": "status", "op": "=", "value": "paid"},
//    "group_by": ["status", {"column": "created_at", "by": "month", "as": "month"}],
//    "summaries": [{"fn": "count"}, {"fn": "sum", "column": "total", "as": "revenue"}],
//    "sort": [{"column": "revenue", "dir": "desc"}],      output columns only
//    "limit": 100,
//    "mode": "fanout" | "totals" | "compare",             default fanout
//    "compare": {"a": "production", "b": "backup", "key": ["id"]}}
//
// Every error in the spec itself is a SpecError (SQLSTATE 22023) whose field is the JSON path of the member at
// fault ("filter.and[1].value", "summaries[0].fn"), so a user or a UI can point at it.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace multidb {

// A spec that is wrong in itself: SQLSTATE 22023. what() is the whole message and names the field.
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Bounds on every list and string a spec holds, so that reading one is bounded on any input.
constexpr size_t kMaxSpecBytes = 1 << 20;
constexpr size_t kMaxSpecConnections = 1000;
constexpr size_t kMaxSpecColumns = 200;
constexpr size_t kMaxSpecFilterNodes = 500;
constexpr size_t kMaxSpecFilterDepth = 16;
constexpr size_t kMaxSpecInValues = 1000;
constexpr size_t kMaxSpecValueBytes = 10000;
constexpr long long kMaxSpecLimit = 1000000;
constexpr size_t kMaxSpecNameBytes = 63;         // a table, schema, column or output name: Postgres's NAMEDATALEN - 1
constexpr size_t kMaxSpecConnectionBytes = 255;  // a connection's or @group's name
constexpr size_t kMaxSpecJsonDepth = 64;         // nesting of arrays and objects in the spec's text
constexpr long long kMaxSpecLastAmount = 100000; // `last`: at most this many days, weeks, months or years

enum class SpecMode { kFanout, kTotals, kCompare };

enum class FilterOp {
  kEq, kNe, kLt, kLe, kGt, kGe,
  kBetween,              // value: [low, high]
  kIn, kNotIn,           // value: [v, ...], 1..kMaxSpecInValues
  kLike, kIlike,         // text columns only
  kIsNull, kIsNotNull,   // no value
  kLast,                 // relative dates: value {"amount": 30, "unit": "day" | "week" | "month" | "year"}
};

// One node of the filter tree: an AND/OR of children, a NOT of one child, or a condition on one column.
struct FilterNode {
  enum class Kind { kAnd, kOr, kNot, kCondition };
  Kind kind = Kind::kCondition;
  std::vector<FilterNode> children;  // kAnd / kOr: one or more; kNot: exactly one
  // kCondition:
  std::string column;
  FilterOp op = FilterOp::kEq;
  std::vector<std::string> values;  // each JSON scalar as text (numbers as written, booleans true/false)
  std::vector<bool> value_is_number;  // per value: it was a JSON number
  std::vector<bool> value_is_boolean;  // per value: it was a JSON boolean (written back as one)
  long long last_amount = 0;        // kLast
  std::string last_unit;            // kLast: day, week, month, year
  std::string path;                 // the node's JSON path, for errors ("filter.and[1]")
};

// A grouping column; `by` truncates a date or time column (day, week, month, year). The output column is `as`,
// or the column's name, or <column>_<by>.
struct GroupColumn {
  std::string column;
  std::string by;
  std::string as;
};

// count (no column), count_distinct, sum, avg, min, max. The output column is `as`, or count,
// count_distinct_<column>, sum_<column>, avg_<column>, min_<column>, max_<column>.
struct Summary {
  std::string fn;
  std::string column;
  std::string as;
};

struct SortKey {
  std::string column;  // an output column
  bool descending = false;
};

struct QuerySpec {
  std::vector<std::string> connections;  // as written: names and @groups (expanded by the caller)
  std::string table_schema;              // empty when the spec wrote no schema
  std::string table_name;
  std::vector<std::string> columns;
  std::optional<FilterNode> filter;
  std::vector<GroupColumn> group_by;
  std::vector<Summary> summaries;
  std::vector<SortKey> sort;
  std::optional<long long> limit;
  SpecMode mode = SpecMode::kFanout;
  std::string compare_a;  // compare mode
  std::string compare_b;
  std::vector<std::string> compare_key;  // output columns; empty: whole rows are compared
};

// The output column of a grouping column or a summary, as described above.
std::string group_output_name(const GroupColumn& group);
std::string summary_output_name(const Summary& summary);

// An operator as the spec writes it: "=", "not in", "is null", "last".
const char* filter_op_name(FilterOp op);

// "fanout", "totals", "compare".
const char* spec_mode_name(SpecMode mode);

// Reads a spec; throws SpecError naming the field. Checks the spec alone (shapes, bounds, names of functions,
// operators, units and modes, output names unique, sort and compare keys among the output columns when the spec
// names its columns); whether its table and columns exist, and fit the operators and values, is the compiler's
// check against each database's schema.
QuerySpec parse_query_spec(const std::string& json_text);

// The spec as JSON again, in the canonical form (what a report keeps).
std::string query_spec_to_json(const QuerySpec& spec);

}  // namespace multidb
