#include "core/combine_functions.hpp"

#include "core/function_denylist.hpp"

#include <algorithm>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// pg_typeof returns regtype, whose output names a type: the type of a value the combine step already has.
constexpr std::string_view kTypeOfValue = "pg_typeof";

CombineCall judge_volatility(const BuiltinFunction& function) {
  switch (function.volatility) {
    case 'i':
      return CombineCall::kAllowed;
    case 's':
      return listed(stable_value_functions(), function.name) ? CombineCall::kAllowed : CombineCall::kNotValueFunction;
    default:
      return listed(volatile_value_functions(), function.name) ? CombineCall::kAllowed : CombineCall::kVolatile;
  }
}

}  // namespace

const std::vector<std::string>& stable_value_functions() {
  static const std::vector<std::string> names = {
      // date and time: arithmetic, parts, truncation, formatting, time zones, series (STABLE for TimeZone and
      // DateStyle), and the operators between date, timestamp and timestamptz
      "age", "date", "date_part", "date_trunc", "extract", "generate_series", "make_timestamptz", "now", "overlaps",
      "statement_timestamp", "transaction_timestamp", "time", "timestamp", "timestamptz", "timetz", "timezone",
      "to_char", "to_date", "to_timestamp",
      "date_cmp_timestamptz", "date_eq_timestamptz", "date_ge_timestamptz", "date_gt_timestamptz",
      "date_le_timestamptz", "date_lt_timestamptz", "date_ne_timestamptz",
      "timestamp_cmp_timestamptz", "timestamp_eq_timestamptz", "timestamp_ge_timestamptz",
      "timestamp_gt_timestamptz", "timestamp_le_timestamptz", "timestamp_lt_timestamptz", "timestamp_ne_timestamptz",
      "timestamptz_cmp_date", "timestamptz_eq_date", "timestamptz_ge_date", "timestamptz_gt_date",
      "timestamptz_le_date", "timestamptz_lt_date", "timestamptz_ne_date",
      "timestamptz_cmp_timestamp", "timestamptz_eq_timestamp", "timestamptz_ge_timestamp",
      "timestamptz_gt_timestamp", "timestamptz_le_timestamp", "timestamptz_lt_timestamp", "timestamptz_ne_timestamp",
      "timestamptz_pl_interval", "timestamptz_mi_interval", "interval_pl_timestamptz",
      // text formatting (they call the output functions of their arguments' types)
      "format", "concat", "concat_ws", "to_number", "quote_literal", "quote_nullable", "array_to_string",
      "anytextcat", "textanycat", "length",
      // casts between ordinary types written as calls (money follows lc_monetary)
      "money", "numeric",
      // JSON construction and processing
      "to_json", "to_jsonb", "row_to_json", "array_to_json", "json_build_array", "json_build_object",
      "jsonb_build_array", "jsonb_build_object", "json_populate_record", "json_populate_recordset",
      "jsonb_populate_record", "jsonb_populate_recordset", "json_to_record", "json_to_recordset", "jsonb_to_record",
      "jsonb_to_recordset", "jsonb_path_exists_tz", "jsonb_path_match_tz", "jsonb_path_query_tz",
      "jsonb_path_query_array_tz", "jsonb_path_query_first_tz",
      // the type of a value
      "pg_typeof",
  };
  return names;
}

const std::vector<std::string>& volatile_value_functions() {
  static const std::vector<std::string> names = {"random", "clock_timestamp", "gen_random_uuid"};
  return names;
}

const std::vector<std::string>& server_state_function_patterns() {
  static const std::vector<std::string> patterns = {
      // the catalog, statistics, settings, sessions, files, sizes, WAL, snapshots, the version: pg_catalog
      // names them all pg_*, and a few pg_* are IMMUTABLE all the same (pg_partition_root reads pg_inherits)
      "pg_*",
      // transaction ids and snapshots
      "txid_*",
      // IMMUTABLE, but they read a catalog entry by OID: text search parsers, a partitioned table's key, a
      // wrapper's options
      "ts_parse", "ts_token_type", "satisfies_hash_partition", "postgresql_fdw_validator",
  };
  return patterns;
}

CombineCall judge_combine_function(const BuiltinFunction& function) {
  if (function.name != kTypeOfValue)
    for (const std::string& pattern : server_state_function_patterns())
      if (pattern_matches(pattern, function.name)) return CombineCall::kServerState;
  if (function.catalog_type && function.name != kTypeOfValue) return CombineCall::kCatalogType;
  if (function.kind == 'a' || function.kind == 'w') {
    // Their support functions work on the values aggregated; STABLE ones (json_agg's output calls) are fine.
    if (function.volatility == 'v') return CombineCall::kVolatile;
    return function.volatile_support ? CombineCall::kVolatileSupport : CombineCall::kAllowed;
  }
  return judge_volatility(function);
}

CombineCall judge_operator_function(const BuiltinFunction& function) { return judge_volatility(function); }

const char* combine_call_reason(CombineCall verdict) {
  switch (verdict) {
    case CombineCall::kAllowed:
      return "allowed";
    case CombineCall::kVolatile:
      return "VOLATILE and may act outside the query";
    case CombineCall::kNotValueFunction:
      return "STABLE and not one of the functions on values";
    case CombineCall::kServerState:
      return "a function that reads the server, not a value";
    case CombineCall::kCatalogType:
      return "a function of a type whose input or output reads the catalog";
    case CombineCall::kVolatileSupport:
      return "an aggregate with a VOLATILE support function";
  }
  return "refused";
}

}  // namespace multidb
