// The query builder's catalog of several databases at once, from their schemas (the schema cache): which tables
// every database has and which only some have (and where they are missing), and for a table, which columns all
// have, with each database's type and whether the types differ in family (a column that is integer on one and
// text on another cannot take the same summaries or filters everywhere).
#pragma once

#include <string>
#include <vector>

#include "core/schema_model.hpp"

namespace multidb {

// {"databases": [names in order],
//  "tables": [{"schema", "name", "present_in": [..], "missing_from": [..],
//              "columns": [{"name", "types": {"<db>": "<type>"}, "family": "numeric" | "text" | "boolean" |
//                           "datetime" | "uuid" | "unordered" | "other" | "mixed", "present_in", "missing_from",
//                           "type_differs": bool}]}]}
// Tables sorted by schema then name; columns in the first database's order, then any the first lacks. A
// column's missing_from lists only databases that have the table (the table's own lists the others); "types" has
// the databases that have the column, in order; "family" is "mixed" and type_differs true when their families
// differ (core/column_type_family).
std::string spec_catalog_json(const std::vector<DatabaseSchema>& databases);

}  // namespace multidb
