// The family of a column's type, from its name as format_type() writes it ("integer", "numeric(12,2)",
// "timestamp with time zone", "text[]"): what the query builder may do with the column — which filter operators
// and values fit, which summaries, whether it can be grouped or truncated to a day, week, month or year.
#pragma once

#include <string>

namespace multidb {

enum class TypeFamily {
  kNumeric,    // smallint, integer, bigint, numeric, real, double precision: every comparison, sum, avg
  kText,       // text, character varying, character, name, citext: every comparison, like, ilike
  kBoolean,    // boolean: =, <>, in, not in
  kDatetime,   // date, timestamp, timestamptz, time, timetz: comparisons, last; by day..year (not time)
  kUuid,       // uuid: =, <>, in, not in
  kUnordered,  // json, jsonb, xml, arrays, geometric types...: only is null / is not null
  kOther,      // enums, domains, interval, bytea, anything else: =, <>, in, not in, comparisons
};

TypeFamily column_type_family(const std::string& type_name);

// "numeric", "text", "boolean", "datetime", "uuid", "unordered", "other".
const char* type_family_name(TypeFamily family);

// A date or a timestamp (with or without time zone): what date_trunc and `last` take. Not a time of day.
bool is_date_or_timestamp(const std::string& type_name);

}  // namespace multidb
