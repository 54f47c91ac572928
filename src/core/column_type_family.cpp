// Sorts a format_type() type name into the query builder's type families (core/column_type_family.hpp). Names
// only: the schema cache keeps the type's name, not its OID, so an enum or a domain is "other" (its own name).
#include "core/column_type_family.hpp"


// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {


// The name without a type modifier: "numeric(12,2)" -> "numeric", "timestamp(3) with time zone" ->
// "timestamp with time zone", "character varying(20)" -> "character varying".
std::string without_typmod(const std::string& name) {
  size_t open = name.find('(');
  if (open == std::string::npos) return name;
  size_t close = name.find(')', open);
  if (close == std::string::npos) return name;
  std::string rest = name.substr(close + 1);
  std::string head = name.substr(0, open);
  return rest.empty() ? head : head + rest;
}

}  // namespace

TypeFamily column_type_family(const std::string& type_name) {
  // An array of anything ("integer[]", "text[][]") has no order the builder offers.
  if (type_name.size() >= 2 && type_name.compare(type_name.size() - 2, 2, "[]") == 0) return TypeFamily::kUnordered;
  const std::string name = without_typmod(type_name);
  static const char* const numeric[] = {"smallint", "integer", "bigint", "numeric", "real", "double precision"};
  for (const char* n : numeric)
    if (name == n) return TypeFamily::kNumeric;
  static const char* const text[] = {"text", "character varying", "character", "name", "citext", "\"char\""};
  for (const char* n : text)
    if (name == n) return TypeFamily::kText;
  if (name == "boolean") return TypeFamily::kBoolean;
  static const char* const datetime[] = {"date", "timestamp without time zone", "timestamp with time zone",
                                         "time without time zone", "time with time zone"};
  for (const char* n : datetime)
    if (name == n) return TypeFamily::kDatetime;
  if (name == "uuid") return TypeFamily::kUuid;
  static const char* const unordered[] = {"json", "jsonb", "xml", "point", "line", "lseg", "box", "path",
                                          "polygon", "circle", "tsvector", "tsquery", "txid_snapshot",
                                          "pg_snapshot"};
  for (const char* n : unordered)
    if (name == n) return TypeFamily::kUnordered;
  return TypeFamily::kOther;
}

const char* type_family_name(TypeFamily family) {
  switch (family) {
    case TypeFamily::kNumeric: return "numeric";
    case TypeFamily::kText: return "text";
    case TypeFamily::kBoolean: return "boolean";
    case TypeFamily::kDatetime: return "datetime";
    case TypeFamily::kUuid: return "uuid";
    case TypeFamily::kUnordered: return "unordered";
    case TypeFamily::kOther: return "other";
  }
  return "other";
}

bool is_date_or_timestamp(const std::string& type_name) {
  const std::string name = without_typmod(type_name);
  return name == "date" || name == "timestamp without time zone" || name == "timestamp with time zone";
}

}  // namespace multidb
