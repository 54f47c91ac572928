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
//                           "datetime" | "uuid" | "other" | "mixed", "present_in", "missing_from",
//                           "type_differs": bool}]}]}
// Tables sorted by schema then name; columns in the first database's order, then any the first lacks.
std::string spec_catalog_json(const std::vector<DatabaseSchema>& databases);

}  // namespace multidb
