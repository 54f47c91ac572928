// The shape of a database's schema, and the databases grouped by it: which share one schema (a fleet of tenants),
// and what a variant (a migration that reached only some) adds, lacks or retypes against the largest group.
//
// The shape is what a statement written for one member relies on in another: the tables (schema, name, kind,
// comment), their columns in order (name, type, nullability, comment), primary keys and foreign keys. It is NOT
// the row estimates or the sampled common values (core/schema_model's common_values), which differ between any two
// live databases; schema_fingerprint in core/schema_model includes the sampled values, so it cannot group them.
// Table order in the document does not matter (tables are compared by their qualified name, foreign keys as a
// set); column order does (SELECT * and positional UNIONs see it).
//
// Contract of group_by_shape(schemas):
//   - Databases whose shapes are equal (compared exactly, not by the fingerprint alone) form one ShapeVariant.
//   - Variants are ordered by size, largest first; equal sizes by where their first database came in the input.
//     Within a variant, databases keep the input's order. The same input always gives the same result.
//   - variants[0] is the base: its differences are empty. Every other variant lists how its shape differs from
//     the base, at most kMaxShapeDifferences of them (more_differences counts the rest), in this order: by table
//     (qualified name), the table's own change first, then its columns in the base's order, then added columns.
//   - A difference's change is one of:
//       "table added"     a table the variant has and the base lacks (found: its kind and column count)
//       "table missing"   a table of the base the variant lacks (expected: its kind and column count)
//       "table changed"   same table, another kind, comment, primary key, foreign keys or column order
//                         (column: empty; expected/found: the attribute as the base and the variant have it,
//                         e.g. "primary key (id)" and "primary key (id, region)")
//       "column added"    found: the column's type
//       "column missing"  expected: the column's type
//       "column retyped"  expected: the base's type, found: the variant's (format_type texts)
//       "column changed"  same type, another nullability or comment (expected/found: "NOT NULL" / "nullable",
//                         or "comment: ...")
//   - A database listed twice (by name) is grouped once, at its first place. An empty input gives no variants.
//
// Owns: the shape, its fingerprint, the grouping and the differences. May not touch: Postgres headers, libpq.
#pragma once

#include "core/schema_model.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace multidb {

constexpr std::size_t kMaxShapeDifferences = 50;

// 16 hex digits over the shape alone: equal for two databases of one schema whatever their data.
std::string schema_shape_fingerprint(const DatabaseSchema& schema);

struct ShapeDifference {
  std::string change;    // see above
  std::string table;     // "schema.table"
  std::string column;    // empty for a table's change
  std::string expected;  // as the base has it; empty for an added table or column
  std::string found;     // as this variant has it; empty for a missing table or column
  bool operator==(const ShapeDifference& other) const {
    return change == other.change && table == other.table && column == other.column && expected == other.expected &&
           found == other.found;
  }
};

struct ShapeVariant {
  std::string fingerprint;             // schema_shape_fingerprint of its members
  std::vector<std::string> databases;  // input order
  std::size_t representative = 0;      // index into the input of its first database: the schema to show
  std::vector<ShapeDifference> differences;  // from variants[0]; empty for variants[0] itself
  std::size_t more_differences = 0;    // differences past kMaxShapeDifferences, not listed
};

struct ShapeGroups {
  std::vector<ShapeVariant> variants;  // largest first
};

ShapeGroups group_by_shape(const std::vector<DatabaseSchema>& schemas);

// The differences of one shape from another (as group_by_shape lists them for a variant, unbounded).
std::vector<ShapeDifference> shape_differences(const DatabaseSchema& base, const DatabaseSchema& variant);

}  // namespace multidb
