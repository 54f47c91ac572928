#include "core/function_denylist.hpp"
#include "core/remote_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

using multidb::RemoteRoleFacts;
using multidb::VolatileAllowlist;
using multidb::VolatileMatch;

TEST(EscapeSqlLiteral, ReadsTheSameWhateverStandardConformingStringsIs) {
  EXPECT_EQ(multidb::escape_sql_literal("crosstab"), "E'crosstab'");
  // ' doubled, \ doubled: inside E'' both spellings mean one character, on any server setting.
  EXPECT_EQ(multidb::escape_sql_literal("a'b\\c"), "E'a''b\\\\c'");
  EXPECT_EQ(multidb::escape_sql_literal("x\\'); DROP TABLE t; --"), "E'x\\\\''); DROP TABLE t; --'");
}

TEST(RemoteCheckSql, AsksForEveryKindOfNameOnce) {
  multidb::StatementNames names;
  names.functions = {"crosstab", "crosstab", "count"};
  names.attribute_calls = {"pg_cancel_backend"};
  names.operators = {"+", "@@"};
  names.types = {"int4"};
  std::string sql = multidb::build_remote_check_sql(names);
  // one look-up for every function name; attribute calls only where one argument can be passed
  EXPECT_NE(sql.find("proname = ANY (ARRAY[E'count', E'crosstab', E'pg_cancel_backend']::pg_catalog.name[]) AND "
                     "(p.proname = ANY (ARRAY[E'count', E'crosstab']::pg_catalog.name[]) OR (p.pronargs >= 1"),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("ARRAY[E'+', E'@@']::pg_catalog.name[]"), std::string::npos);
  EXPECT_NE(sql.find("ARRAY[E'int4']::pg_catalog.name[]"), std::string::npos);
  EXPECT_NE(sql.find("r.rolname IN (session_user, current_user)"), std::string::npos);
  for (const std::string& role : multidb::powerful_builtin_roles())
    EXPECT_NE(sql.find("'" + role + "'"), std::string::npos) << role;
  // Two statements: appended to the set-up after BEGIN READ ONLY.
  EXPECT_EQ(std::count(sql.begin(), sql.end(), ';'), 1);
}

TEST(RemoteCheckSql, OnlyTheKindsOfNameTheStatementHolds) {
  std::string none = multidb::build_remote_check_sql({});
  EXPECT_NE(none.find("WHERE false"), std::string::npos) << none;
  EXPECT_EQ(none.find("pg_proc"), std::string::npos);
  multidb::StatementNames attribute_only;
  attribute_only.attribute_calls = {"f"};
  std::string sql = multidb::build_remote_check_sql(attribute_only);
  EXPECT_NE(sql.find("ARRAY[]::pg_catalog.name[]"), std::string::npos) << sql;  // no plain call named f
  EXPECT_EQ(sql.find("pg_operator"), std::string::npos);
  EXPECT_EQ(sql.find("pg_type"), std::string::npos);
}

TEST(RemoteRoles, PlainReaderPasses) {
  RemoteRoleFacts reader;
  reader.name = "reader";
  auto verdict = multidb::judge_remote_roles({reader}, false, "prod");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_FALSE(verdict.warn);
}

TEST(RemoteRoles, EachPrivilegeIsNamedAndRefused) {
  RemoteRoleFacts role;
  role.name = "etl";
  role.replication = true;
  role.bypassrls = true;
  role.member_of = "pg_read_server_files,pg_signal_backend";
  EXPECT_EQ(multidb::role_privileges(role),
            "REPLICATION, BYPASSRLS and member of pg_read_server_files,pg_signal_backend");
  auto verdict = multidb::judge_remote_roles({role}, false, "prod");
  EXPECT_FALSE(verdict.allowed);
  EXPECT_NE(verdict.message.find("\"etl\""), std::string::npos);
  EXPECT_NE(verdict.hint.find("CREATE ROLE multidb_reader"), std::string::npos);
  EXPECT_NE(verdict.hint.find("SERVER prod"), std::string::npos);
  EXPECT_NE(verdict.hint.find("allow_privileged_role"), std::string::npos);
}

TEST(RemoteRoles, SuperuserIsSaidAlone) {
  RemoteRoleFacts role;
  role.name = "postgres";
  role.superuser = true;
  role.member_of = "pg_execute_server_program,pg_read_server_files,pg_signal_backend,pg_write_server_files";
  EXPECT_EQ(multidb::role_privileges(role), "superuser");
}

TEST(RemoteRoles, CurrentUserCountsAsMuchAsSessionUser) {
  // ALTER ROLE reader SET role = 'admin' makes current_user differ from session_user at connect.
  RemoteRoleFacts reader, admin;
  reader.name = "reader";
  admin.name = "admin";
  admin.superuser = true;
  EXPECT_FALSE(multidb::judge_remote_roles({reader, admin}, false, "prod").allowed);
}

TEST(RemoteRoles, ServerOptionTurnsRefusalIntoWarning) {
  RemoteRoleFacts role;
  role.name = "postgres";
  role.superuser = true;
  auto verdict = multidb::judge_remote_roles({role}, true, "prod");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_TRUE(verdict.warn);
  EXPECT_NE(verdict.message.find("allow_privileged_role"), std::string::npos);
}

TEST(RemoteRoles, NoRoleRowIsARefusal) { EXPECT_FALSE(multidb::judge_remote_roles({}, true, "prod").allowed); }

TEST(VolatileAllowlist, BuiltinsAreHarmlessFunctionsOfPgCatalogOnly) {
  VolatileAllowlist allowlist;
  EXPECT_TRUE(allowlist.allows("pg_catalog", "random"));
  EXPECT_TRUE(allowlist.allows("pg_catalog", "pg_sleep"));
  EXPECT_TRUE(allowlist.allows("pg_catalog", "pg_total_relation_size"));
  EXPECT_TRUE(allowlist.allows("pg_catalog", "pg_current_wal_lsn"));
  EXPECT_TRUE(allowlist.allows("pg_catalog", "pg_last_wal_replay_lsn"));
  EXPECT_TRUE(allowlist.allows("pg_catalog", "pg_stat_get_numscans"));
  // a function of the same name elsewhere is somebody else's
  EXPECT_FALSE(allowlist.allows("public", "random"));
  for (const char* name : {"pg_terminate_backend", "setval", "pg_read_file", "set_config", "lo_import",
                           "pg_create_physical_replication_slot", "setseed", "pg_stat_reset"})
    EXPECT_FALSE(allowlist.allows("pg_catalog", name)) << name;
  // nothing on the allowlist is on the denylist
  multidb::FunctionDenylist denylist;
  for (const std::string& pattern : VolatileAllowlist::builtin_patterns()) {
    std::string name = pattern.substr(pattern.find('.') + 1);
    if (name.find('*') == std::string::npos) {
      EXPECT_EQ(denylist.denying_pattern(name), nullptr) << name;
    }
  }
}

TEST(VolatileAllowlist, ExtraPatternsTakeNameOrSchemaDotName) {
  VolatileAllowlist allowlist(multidb::parse_allowlist_patterns(" uuid_generate_v4 , Audit.Stamp_* "));
  EXPECT_TRUE(allowlist.allows("public", "uuid_generate_v4"));
  EXPECT_TRUE(allowlist.allows("extensions", "uuid_generate_v4"));
  EXPECT_TRUE(allowlist.allows("audit", "stamp_now"));
  EXPECT_FALSE(allowlist.allows("public", "stamp_now"));
  EXPECT_THROW(multidb::parse_allowlist_patterns("a,,b"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_allowlist_patterns(".f"), std::invalid_argument);
  EXPECT_THROW(multidb::parse_allowlist_patterns("f()"), std::invalid_argument);
  EXPECT_TRUE(multidb::parse_allowlist_patterns("  ").empty());
}

TEST(VolatileMatches, AllowedFunctionsPassOthersAreNamed) {
  VolatileAllowlist allowlist;
  std::vector<VolatileMatch> matches = {{"function", "pg_catalog", "random", "random()"}};
  EXPECT_TRUE(multidb::judge_volatile_matches(matches, allowlist).allowed);
  matches.push_back({"function", "public", "heap_force_kill", "heap_force_kill(regclass,tid[])"});
  matches.push_back({"operator", "public", "@@@", "@@@(integer,integer)"});
  auto verdict = multidb::judge_volatile_matches(matches, allowlist);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_NE(verdict.message.find("function heap_force_kill(regclass,tid[])"), std::string::npos) << verdict.message;
  EXPECT_NE(verdict.message.find("operator @@@(integer,integer)"), std::string::npos);
  EXPECT_EQ(verdict.message.find("random"), std::string::npos);
}

TEST(VolatileMatches, OperatorsAndTypesAreNeverExempt) {
  VolatileAllowlist allowlist(multidb::parse_allowlist_patterns("*"));
  EXPECT_TRUE(multidb::judge_volatile_matches({{"function", "x", "f", "f()"}}, allowlist).allowed);
  EXPECT_FALSE(multidb::judge_volatile_matches({{"type", "x", "t", "t"}}, allowlist).allowed);
}

TEST(VolatileMatches, ALongListIsCut) {
  std::vector<VolatileMatch> matches;
  for (int i = 0; i < 12; i++)
    matches.push_back({"function", "public", "f" + std::to_string(i), "f" + std::to_string(i) + "()"});
  auto verdict = multidb::judge_volatile_matches(matches, VolatileAllowlist());
  EXPECT_NE(verdict.message.find("and 7 more"), std::string::npos) << verdict.message;
}

TEST(DeniedRelations, FilesAndSecretsByName) {
  for (const char* name : {"pg_hba_file_rules", "pg_ident_file_mappings", "pg_file_settings", "pg_authid",
                           "pg_shadow", "pg_user_mappings", "pg_largeobject", "pg_statistic"})
    EXPECT_NE(multidb::denied_relation(name), nullptr) << name;
  for (const char* name : {"pg_stat_activity", "pg_class", "pg_roles", "orders", "pg_stats"})
    EXPECT_EQ(multidb::denied_relation(name), nullptr) << name;
}

TEST(FunctionDenylist, SqlTextRunnersThatAreNotVolatile) {
  // tablefunc's and xml2's SQL runners are STABLE or IMMUTABLE: only their names stop them.
  multidb::FunctionDenylist denylist;
  for (const char* name : {"crosstab", "crosstab2", "crosstab_hash", "connectby", "xpath_table", "xslt_process",
                           "pg_hba_file_rules", "pg_show_all_file_settings", "pg_ident_file_mappings"})
    EXPECT_NE(denylist.denying_pattern(name), nullptr) << name;
}
