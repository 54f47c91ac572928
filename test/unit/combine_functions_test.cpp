// core/combine_functions: which built-in functions the combine step may call.
#include "core/combine_functions.hpp"

#include <gtest/gtest.h>

#include <string>

using multidb::BuiltinFunction;
using multidb::CombineCall;
using multidb::judge_combine_function;
using multidb::judge_operator_function;

namespace {

BuiltinFunction function(const char* name, char volatility, char kind = 'f', bool volatile_support = false,
                         bool catalog_type = false) {
  return BuiltinFunction{name, volatility, kind, volatile_support, catalog_type};
}

}  // namespace

TEST(CombineFunctions, ImmutableFunctionsWorkOnValues) {
  for (const char* name : {"upper", "round", "abs", "jsonb_array_elements", "unnest", "array_length", "md5", "btrim"})
    EXPECT_EQ(judge_combine_function(function(name, 'i')), CombineCall::kAllowed) << name;
}

TEST(CombineFunctions, StableOnesOnlyFromTheList) {
  for (const char* name : {"date_trunc", "to_char", "format", "concat", "now", "age", "generate_series", "to_jsonb",
                           "json_build_object", "jsonb_path_query_tz", "array_to_string", "timezone", "pg_typeof"})
    EXPECT_EQ(judge_combine_function(function(name, 's')), CombineCall::kAllowed) << name;
  for (const char* name : {"current_setting", "has_table_privilege", "obj_description", "format_type", "version",
                           "current_database", "inet_client_addr", "to_regclass", "regclass", "ts_headline",
                           "get_current_ts_config", "table_to_xml", "enum_range", "xml", "convert_from"})
    EXPECT_EQ(judge_combine_function(function(name, 's')), CombineCall::kNotValueFunction) << name;
}

TEST(CombineFunctions, ServerStateWhateverItsVolatility) {
  for (char volatility : {'i', 's', 'v'})
    for (const char* name : {"pg_stat_get_activity", "pg_show_all_settings", "pg_backend_pid", "pg_partition_root",
                             "pg_size_pretty", "pg_current_snapshot", "pg_relation_size", "txid_current",
                             "txid_snapshot_xmin", "ts_parse", "ts_token_type", "satisfies_hash_partition"})
      EXPECT_EQ(judge_combine_function(function(name, volatility)), CombineCall::kServerState) << name;
  EXPECT_EQ(judge_combine_function(function("PG_STAT_GET_ACTIVITY", 's')), CombineCall::kServerState);
}

TEST(CombineFunctions, CatalogTypes) {
  EXPECT_EQ(judge_combine_function(function("makeaclitem", 'i', 'f', false, true)), CombineCall::kCatalogType);
  EXPECT_EQ(judge_combine_function(function("to_tsvector", 'i', 'f', false, true)), CombineCall::kCatalogType);
  // pg_typeof returns regtype, which only names the type of a value the combine step has
  EXPECT_EQ(judge_combine_function(function("pg_typeof", 's', 'f', false, true)), CombineCall::kAllowed);
}

TEST(CombineFunctions, AggregatesAndWindowFunctionsByTheirSupport) {
  EXPECT_EQ(judge_combine_function(function("sum", 'i', 'a')), CombineCall::kAllowed);
  EXPECT_EQ(judge_combine_function(function("json_agg", 's', 'a')), CombineCall::kAllowed);
  EXPECT_EQ(judge_combine_function(function("string_agg", 'i', 'a')), CombineCall::kAllowed);
  EXPECT_EQ(judge_combine_function(function("rank", 'i', 'w')), CombineCall::kAllowed);
  EXPECT_EQ(judge_combine_function(function("an_aggregate", 'i', 'a', true)), CombineCall::kVolatileSupport);
  EXPECT_EQ(judge_combine_function(function("an_aggregate", 'v', 'a')), CombineCall::kVolatile);
}

TEST(CombineFunctions, VolatileOnlyTheValueMakers) {
  for (const char* name : {"random", "clock_timestamp", "gen_random_uuid"})
    EXPECT_EQ(judge_combine_function(function(name, 'v')), CombineCall::kAllowed) << name;
  for (const char* name : {"setseed", "nextval", "pg_sleep", "lo_import", "set_config", "timeofday"})
    EXPECT_NE(judge_combine_function(function(name, 'v')), CombineCall::kAllowed) << name;
  EXPECT_EQ(judge_combine_function(function("setseed", 'v')), CombineCall::kVolatile);
}

TEST(CombineFunctions, OperatorsByVolatilityAlone) {
  EXPECT_EQ(judge_operator_function(function("int4pl", 'i')), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("aclitemeq", 'i', 'f', false, true)), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("pg_lsn_eq", 'i')), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("timestamptz_pl_interval", 's')), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("date_lt_timestamptz", 's')), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("anytextcat", 's')), CombineCall::kAllowed);
  EXPECT_EQ(judge_operator_function(function("ts_match_tt", 's')), CombineCall::kNotValueFunction);
  EXPECT_EQ(judge_operator_function(function("some_volatile_op", 'v')), CombineCall::kVolatile);
}

TEST(CombineFunctions, EveryRefusalHasWords) {
  for (CombineCall verdict : {CombineCall::kVolatile, CombineCall::kNotValueFunction, CombineCall::kServerState,
                              CombineCall::kCatalogType, CombineCall::kVolatileSupport})
    EXPECT_GT(std::string(multidb::combine_call_reason(verdict)).size(), 10u);
  EXPECT_STREQ(multidb::combine_call_reason(CombineCall::kVolatile), "VOLATILE and may act outside the query");
}
