#include "core/function_denylist.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

using multidb::FunctionDenylist;

TEST(PatternMatches, ExactNamesIgnoreCase) {
  EXPECT_TRUE(multidb::pattern_matches("set_config", "set_config"));
  EXPECT_TRUE(multidb::pattern_matches("set_config", "SET_CONFIG"));
  EXPECT_FALSE(multidb::pattern_matches("set_config", "set_config2"));
  EXPECT_FALSE(multidb::pattern_matches("set_config", "current_setting"));
}

TEST(PatternMatches, StarsMatchAnyRun) {
  EXPECT_TRUE(multidb::pattern_matches("pg_advisory_*", "pg_advisory_xact_lock_shared"));
  EXPECT_TRUE(multidb::pattern_matches("pg_create_*_slot", "pg_create_logical_replication_slot"));
  EXPECT_FALSE(multidb::pattern_matches("pg_create_*_slot", "pg_create_restore_point"));
  EXPECT_TRUE(multidb::pattern_matches("dblink*", "dblink"));
  EXPECT_TRUE(multidb::pattern_matches("*", "anything"));
  EXPECT_TRUE(multidb::pattern_matches("a*b*c", "aXXbYYbZZc"));
  EXPECT_FALSE(multidb::pattern_matches("a*b*c", "aXXbYY"));
}

TEST(FunctionDenylist, BuiltinListCoversTheIssueList) {
  FunctionDenylist denylist;
  for (const char* name :
       {"pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "set_config",
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
        "lo_unlink", "lo_create", "dblink", "dblink_exec", "dblink_send_query", "pg_advisory_lock",
        "pg_advisory_xact_lock", "pg_try_advisory_lock", "pg_notify", "nextval", "setval", "pg_switch_wal",
        "pg_create_physical_replication_slot", "pg_create_logical_replication_slot"}) {
    EXPECT_NE(denylist.denying_pattern(name), nullptr) << name;
  }
}

TEST(FunctionDenylist, ReadOnlyFunctionsPass) {
  FunctionDenylist denylist;
  for (const char* name : {"count", "sum", "now", "pg_sleep", "current_setting", "lower", "generate_series",
                           "currval", "pg_size_pretty", "jsonb_build_object"}) {
    EXPECT_EQ(denylist.denying_pattern(name), nullptr) << name;
  }
}

TEST(FunctionDenylist, ExtraPatternsAddToTheBuiltinList) {
  FunctionDenylist denylist(multidb::parse_function_patterns(" audit_* , Purge_All "));
  ASSERT_NE(denylist.denying_pattern("audit_write"), nullptr);
  EXPECT_EQ(*denylist.denying_pattern("audit_write"), "audit_*");
  EXPECT_NE(denylist.denying_pattern("purge_all"), nullptr);
  EXPECT_NE(denylist.denying_pattern("set_config"), nullptr);
  EXPECT_EQ(denylist.patterns().size(), multidb::builtin_denied_function_patterns().size() + 2);
}

TEST(ParseFunctionPatterns, EmptyTextIsNoPatterns) {
  EXPECT_TRUE(multidb::parse_function_patterns("").empty());
  EXPECT_TRUE(multidb::parse_function_patterns("   ").empty());
}

TEST(ParseFunctionPatterns, RejectsMalformedEntries) {
  EXPECT_THROW(multidb::parse_function_patterns("a,,b"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_function_patterns("a,"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_function_patterns("bad name"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_function_patterns("drop;"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_function_patterns("schema.func"), std::invalid_argument);
}
