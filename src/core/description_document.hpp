// The JSON document of an answer's description, as multidb._describe_answer writes it and views store it:
//   {"columns": [{"name", "type"}], "databases": [{"database", "columns": [...]}], "combine": {"columns": [...]}}
// (combine only for a plan with a combine step), read back into the model of statement_description.hpp, and the
// drift of a description made now from a stored one (multidb._description_drift).
//
// Owns: reading the document and comparing two. May not touch: Postgres headers, libpq.
#pragma once

#include "core/statement_description.hpp"

#include <string>
#include <vector>

namespace multidb {

struct DescriptionDocument {
  std::vector<DescribedColumn> columns;      // the answer's columns
  std::vector<DescribedStatement> databases;  // each database's own description
  bool has_combine = false;                   // the answer's columns are a combine step's
};

// Throws std::invalid_argument naming what is wrong (not JSON, a missing or mistyped field, a column without a
// name or type, more than kMaxDescribedColumns columns).
DescriptionDocument read_description_document(const std::string& json_text);

// The drift of now from stored. Without a combine step (in either): the stored answer's columns against each of
// now's databases (description_drift). With one: each of now's databases against the same database's stored
// description (every column added when it had none), then the combine step's columns against the stored ones,
// named by the database "combined" (plan_parser.hpp's kCombinedSource). Empty: no drift.
std::vector<DriftItem> description_document_drift(const DescriptionDocument& stored, const DescriptionDocument& now);

}  // namespace multidb
