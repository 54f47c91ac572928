#include "core/function_denylist.hpp"
#include "core/remote_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
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

TEST(RemoteCheckSql, AsksForEveryCallOnceAsTheRemoteReadsIt) {
  multidb::StatementNames names;
  names.calls = {{"crosstab", 1}, {"crosstab", 1}, {"Count", 0}, {"pg_cancel_backend", 1}, {"concat", -1}};
  std::string sql = multidb::build_remote_check_sql(names, {}).inline_sql;
  // the names as written, read by the remote's own identifier rules and cut at its NAMEDATALEN, each with the
  // number of arguments its call passes
  EXPECT_NE(sql.find("ROWS FROM (pg_catalog.unnest(ARRAY[E'Count', E'concat', E'crosstab', E'pg_cancel_backend']::"
                     "pg_catalog.text[]), pg_catalog.unnest(ARRAY[0, -1, 1, 1]::pg_catalog.int4[])) c(w, n)"),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("(pg_catalog.parse_ident(c.w, false))[1]::pg_catalog.name"), std::string::npos);
  EXPECT_NE(sql.find("p.pronargdefaults) AND c.n OPERATOR(pg_catalog.<=) p.pronargs"), std::string::npos);
  for (const std::string& role : multidb::powerful_builtin_roles())
    EXPECT_NE(sql.find("'" + role + "'"), std::string::npos) << role;
  // The search_path pin, then three queries: session facts, named functions, what any statement could reach.
  EXPECT_EQ(sql.rfind("SET LOCAL search_path = pg_catalog, pg_temp; ", 0), 0u) << sql;
  EXPECT_EQ(std::count(sql.begin(), sql.end(), ';'), 3);
  EXPECT_NE(sql.find("pg_catalog.pg_depend"), std::string::npos);
  EXPECT_NE(sql.find("pg_catalog.pg_amproc"), std::string::npos);
  EXPECT_NE(sql.find("contypid"), std::string::npos);
}

// Every operator and function the checks use is spelled with its schema: a remote role's search_path that puts a
// lying public.= first changes nothing.
TEST(RemoteCheckSql, SpellsOutEveryOperatorAndFunctionWithItsSchema) {
  multidb::StatementNames names;
  names.calls = {{"f", 2}, {"g", 1}};
  std::string sql = multidb::build_remote_check_sql(names, {"public.f(integer)"}).inline_sql;
  std::string queries = sql.substr(sql.find("; ") + 2);  // after the SET
  std::string bare;
  for (size_t i = 0; i < queries.size(); i++) {
    if (queries[i] == '\'') {  // a literal: skipped ('' inside is two literals, still skipped)
      size_t close = queries.find('\'', i + 1);
      ASSERT_NE(close, std::string::npos);
      i = close;
      continue;
    }
    if (queries.compare(i, 20, "OPERATOR(pg_catalog.") == 0) {
      i = queries.find(')', i + 20);
      continue;
    }
    bare += queries[i];
  }
  for (const char* op : {"=", "<", ">", "||", "~", "!"}) EXPECT_EQ(bare.find(op), std::string::npos) << op << "\n" << bare;
  // a word followed by '(' is a function of pg_catalog, SQL syntax, or an alias's column list
  const std::vector<std::string> syntax = {"ARRAY", "EXISTS", "COALESCE", "ANY", "AND", "OR", "ON", "LATERAL",
                                           "FROM", "h", "called", "x", "c", "IN", "ROWS FROM"};
  for (size_t open = bare.find('('); open != std::string::npos; open = bare.find('(', open + 1)) {
    size_t start = open;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(bare[start - 1])) || bare[start - 1] == '_' ||
                         bare[start - 1] == '.'))
      start--;
    std::string word = bare.substr(start, open - start);
    if (word.empty()) continue;
    bool allowed = word.rfind("pg_catalog.", 0) == 0 || std::find(syntax.begin(), syntax.end(), word) != syntax.end();
    EXPECT_TRUE(allowed) << word;
  }
}

// The pipeline sends the three gated, with the statement's names and the allowlist as parameters, never spliced.
TEST(RemoteCheckSql, ParametersCarryTheNamesAsArrayValues) {
  multidb::StatementNames names;
  names.calls = {{"f", 2}, {"\"Odd\\\"name\"", 1}, {"f", 2}};
  multidb::RemoteCheckSql sql = multidb::build_remote_check_sql(names, {"public.g()", "public.g()"});
  std::vector<std::string> fields = multidb::unpack_fields(sql.parameters);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], "{\"\\\"Odd\\\\\\\"name\\\"\",\"f\"}");
  EXPECT_EQ(fields[1], "{\"1\",\"2\"}");
  EXPECT_EQ(fields[2], "{\"public.g()\"}");
  // the inline form is the same queries with the values in place of the parameters
  EXPECT_EQ(sql.inline_sql.find('$'), std::string::npos) << sql.inline_sql;
  EXPECT_EQ(multidb::unpack_fields(multidb::build_remote_check_sql({}, {}).parameters),
            (std::vector<std::string>{"{}", "{}", "{}"}));
}

TEST(PackFields, AnyBytesButNulSurvive) {
  std::vector<std::string> fields = {"", "a:b", "12:x", std::string("\x1f\n;", 3)};
  EXPECT_EQ(multidb::unpack_fields(multidb::pack_fields(fields)), fields);
  EXPECT_THROW(multidb::unpack_fields("5:ab"), std::invalid_argument);
  EXPECT_THROW(multidb::unpack_fields("x:ab"), std::invalid_argument);
  EXPECT_THROW(multidb::unpack_fields(":ab"), std::invalid_argument);
}

TEST(LikePattern, GlobStarIsPercentAndTheRestIsLiteral) {
  EXPECT_EQ(multidb::like_pattern("pg_stat_get_*"), "pg\\_stat\\_get\\_%");
  EXPECT_EQ(multidb::like_pattern("a%b\\c*"), "a\\%b\\\\c%");
  EXPECT_EQ(multidb::like_pattern("*"), "%");
}

TEST(LikePattern, AllowlistSplitsAsAllowsDoes) {
  multidb::VolatileAllowlist allowlist({"myfunc", "audit.*", "public.f(integer)"});
  multidb::AllowlistLikePatterns like = allowlist.like_patterns();
  ASSERT_EQ(like.schemas.size(), multidb::VolatileAllowlist::builtin_patterns().size() + 2);
  EXPECT_EQ(like.schemas[0], "pg\\_catalog");
  EXPECT_EQ(like.names[0], "random");
  EXPECT_EQ(like.schemas[like.schemas.size() - 2], "%");  // "name": any schema
  EXPECT_EQ(like.names[like.names.size() - 2], "myfunc");
  EXPECT_EQ(like.schemas.back(), "audit");
  EXPECT_EQ(like.names.back(), "%");
  // a signature entry is no pattern: the remote resolves it (the rows' "allowed" column)
  EXPECT_EQ(multidb::array_literal(like.names).find("public.f"), std::string::npos);
  EXPECT_EQ(multidb::array_literal({"a\"b", "c\\d", ""}), "{\"a\\\"b\",\"c\\\\d\",\"\"}");
}

// Each gate raises on a row the judgement would refuse, by casting a text made from that row (never a constant), and
// takes every choice as a parameter.
TEST(GatedChecks, RaiseFromTheRowWithTheMarker) {
  const multidb::GatedCheckQueries& gated = multidb::gated_check_queries();
  for (const std::string* query : {&gated.session_facts, &gated.volatile_reach}) {
    EXPECT_NE(query->find("pg_catalog.textcat('multidb_check_refused: ', pg_catalog.textcat("), std::string::npos)
        << *query;
    EXPECT_NE(query->find(")::pg_catalog.int4"), std::string::npos);
    EXPECT_EQ(query->find("'multidb_check_refused'::"), std::string::npos);
  }
  EXPECT_NE(gated.session_facts.find("NOT $3 AND (f.rolsuper OR f.rolreplication OR f.rolbypassrls OR f.member_of"),
            std::string::npos);
  EXPECT_NE(gated.session_facts.find("$4 OPERATOR(pg_catalog.<>) 0 AND pg_catalog.pg_backend_pid() "
                                     "OPERATOR(pg_catalog.<>) $4"),
            std::string::npos);
  // the prepared-intact gate's refusal is made from the counts read (a constant text would raise at plan time)
  EXPECT_NE(gated.prepared_intact.find("CASE WHEN c.from_sql OPERATOR(pg_catalog.<>) 0 OR c.total OPERATOR(pg_catalog.<>) "
                                       "$1 THEN pg_catalog.textcat('multidb_check_refused: ', pg_catalog.textcat('the "
                                       "session holds prepared statements multidb did not make: ', pg_catalog.format("),
            std::string::npos)
      << gated.prepared_intact;
  EXPECT_NE(gated.prepared_intact.find("FROM pg_catalog.pg_prepared_statement() p"), std::string::npos);
  EXPECT_NE(gated.volatile_reach.find("pg_catalog.unnest($4), pg_catalog.unnest($5)"), std::string::npos);
  EXPECT_NE(gated.volatile_reach.find("CASE WHEN (v.kind OPERATOR(pg_catalog.=) 'implicit' AND $6) OR v.allowed OR EXISTS"),
            std::string::npos);
  // the refusal names the kind ("function ..." or "implicit ..."), as the slower path's judgement does
  EXPECT_NE(gated.volatile_reach.find("pg_catalog.textcat(pg_catalog.textcat(v.kind, ' '), v.signature)"),
            std::string::npos);
  // the settings ride on the facts' row, after its columns, search_path last (the volatile reach reads with it)
  EXPECT_EQ(gated.session_facts.find("SELECT f.*, pg_catalog.set_config('DateStyle', 'ISO', true)"), 0u);
  EXPECT_NE(gated.session_facts.find("pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), " +
                                     std::string(multidb::kCatalogStateKey) + " FROM (SELECT 1)"),
            std::string::npos);
  // the volatile reach's last row is the state it read; the unchanged check sets no checks' settings
  EXPECT_NE(gated.volatile_reach.find(" UNION ALL SELECT 'catalog state', '', '', '', " +
                                      std::string(multidb::kCatalogStateKey) + ", false"),
            std::string::npos);
  // the comparison is the state on a primary (only a primary records one) against $1, raising by a division by zero
  // when it differs; it sets nothing
  EXPECT_EQ(gated.catalog_unchanged, std::string("SELECT 1 OPERATOR(pg_catalog./) CASE WHEN ") +
                                         multidb::kCatalogStateText + " OPERATOR(pg_catalog.=) $1 THEN 1 ELSE 0 END");
  EXPECT_EQ(gated.catalog_unchanged.find("set_config"), std::string::npos);
  const multidb::GatedParameterTypes* types = multidb::gated_parameter_types();
  EXPECT_EQ(types[multidb::kSessionFactsQuery].count, 4);
  EXPECT_EQ(types[multidb::kSessionFactsQuery].types[2], 16u);
  EXPECT_EQ(types[multidb::kVolatileReachQuery].count, 6);
  EXPECT_EQ(types[multidb::kVolatileReachQuery].types[5], 16u);
  EXPECT_EQ(types[multidb::kCatalogUnchangedQuery].count, 1);
  EXPECT_EQ(types[multidb::kCatalogUnchangedQuery].types[0], 25u);
  EXPECT_EQ(types[multidb::kPreparedIntactQuery].count, 1);
  EXPECT_EQ(types[multidb::kPreparedIntactQuery].types[0], 20u);
  EXPECT_EQ(multidb::kGatedStatements, 2);
  EXPECT_STREQ(multidb::gated_statement_names()[0], "multidb_session_facts");
  EXPECT_STREQ(multidb::gated_statement_names()[1], "multidb_volatile_reach");
  EXPECT_EQ(multidb::gated_statement_texts()[1], gated.volatile_reach);
}

// The catalog state: no snapshot on a standby (it leaves out the running transactions), and the session's identity
// beside the snapshot (a pooler's other server session, or another role, is another state).
TEST(GatedChecks, CatalogStateIsTheSnapshotWithTheSession) {
  std::string key = multidb::kCatalogStateKey;
  EXPECT_EQ(key, std::string("CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE ") +
                     multidb::kCatalogStateText + " END");
  for (const char* part : {"pg_catalog.pg_current_snapshot()", "pg_catalog.pg_backend_pid()", "session_user",
                           "current_user", "'%s %s %I %I'"})
    EXPECT_NE(key.find(part), std::string::npos) << part;
}

// The one statement asks what the two inline queries ask: the named candidates and the implicit reach, the same text.
TEST(GatedChecks, VolatileReachAsksWhatTheInlineQueriesAsk) {
  const multidb::GatedCheckQueries& gated = multidb::gated_check_queries();
  const multidb::RemoteCheckQueries& inline_queries = multidb::remote_check_queries();
  std::string named_from = inline_queries.named.substr(inline_queries.named.find("FROM ROWS FROM"));
  named_from = named_from.substr(0, named_from.find(" JOIN pg_catalog.pg_namespace"));
  EXPECT_NE(gated.volatile_reach.find(named_from), std::string::npos) << named_from;
  std::string reach = inline_queries.implicit.substr(inline_queries.implicit.find("FROM (SELECT d.classid") + 6);
  reach = reach.substr(0, reach.find(") h(classid, objid, fn)"));
  EXPECT_NE(gated.volatile_reach.find("FROM (" + reach + ") r(classid, objid, fn)"), std::string::npos) << reach;
}

TEST(RemoteCheckSql, SignatureEntriesAreResolvedThere) {
  std::string sql = multidb::build_remote_check_sql({}, {"public.uuid_generate_v4()"}).inline_sql;
  EXPECT_NE(sql.find("pg_catalog.to_regprocedure(s)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ARRAY[E'public.uuid_generate_v4()']::pg_catalog.text[]"), std::string::npos);
  // no calls: the named query asks for none, the others stand
  EXPECT_NE(sql.find("ARRAY[]::pg_catalog.text[]), pg_catalog.unnest(ARRAY[]::pg_catalog.int4[])"), std::string::npos);
  EXPECT_EQ(std::count(sql.begin(), sql.end(), ';'), 3);
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
  EXPECT_TRUE(multidb::parse_allowlist_patterns("  ").empty());
}

TEST(VolatileAllowlist, AnEntryWithASignatureNamesOneOverload) {
  std::vector<std::string> entries = multidb::parse_allowlist_patterns(
      "Public.Gen_Id(), public.f(int, numeric(10, 2)), ext.g(text[], \"My Type\"), h");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0], "public.gen_id()");
  EXPECT_EQ(entries[1], "public.f(int, numeric(10, 2))");
  VolatileAllowlist allowlist(entries);
  EXPECT_EQ(allowlist.signature_entries().size(), 3u);
  // by name, only the bare entry: the others are resolved by the remote
  EXPECT_TRUE(allowlist.allows("public", "h"));
  EXPECT_FALSE(allowlist.allows("public", "gen_id"));
  EXPECT_FALSE(allowlist.allows("public", "f"));
  for (const char* bad : {"f()", "public.f(int", "public.f(int))", "public.f(int) x", "public.f(int; drop)",
                          "public.*(int)", ".f()", "public.f('x')"})
    EXPECT_THROW(multidb::parse_allowlist_patterns(bad), std::invalid_argument) << bad;
}

TEST(VolatileMatches, AllowedFunctionsPassOthersAreNamed) {
  VolatileAllowlist allowlist;
  std::vector<VolatileMatch> matches = {{"function", "", "pg_catalog", "random", "pg_catalog.random()", false}};
  EXPECT_TRUE(multidb::judge_volatile_matches(matches, allowlist).allowed);
  matches.push_back({"function", "", "public", "heap_force_kill", "public.heap_force_kill(regclass, tid[])", false});
  matches.push_back({"function", "", "public", "gen_id", "public.gen_id()", true});
  matches.push_back({"function", "", "public", "heap_force_kill", "public.heap_force_kill(regclass, tid[])", false});
  auto verdict = multidb::judge_volatile_matches(matches, allowlist);
  EXPECT_EQ(verdict.message.find("heap_force_kill", verdict.message.find("heap_force_kill") + 1), std::string::npos)
      << "named once: " << verdict.message;
  EXPECT_FALSE(verdict.allowed);
  EXPECT_NE(verdict.message.find("function public.heap_force_kill(regclass, tid[])"), std::string::npos) << verdict.message;
  EXPECT_EQ(verdict.message.find("random"), std::string::npos);
  EXPECT_EQ(verdict.message.find("gen_id"), std::string::npos);  // allowed by its signature
}

TEST(ImplicitMatches, AnyOneRefusesEveryStatementNamingWhatReachesIt) {
  std::vector<VolatileMatch> matches = {
      {"implicit", "constraint dchk_check on domain dchk", "public", "side", "public.side(text)", false}};
  auto verdict = multidb::judge_implicit_matches(matches, VolatileAllowlist(), false, "hr");
  EXPECT_FALSE(verdict.allowed);
  EXPECT_NE(verdict.message.find("public.side(text) (behind constraint dchk_check on domain dchk)"), std::string::npos)
      << verdict.message;
  EXPECT_NE(verdict.message.find("every statement"), std::string::npos);
  EXPECT_NE(verdict.hint.find("multidb.extra_allowed_volatile_functions = 'public.side(text)'"), std::string::npos)
      << verdict.hint;
  EXPECT_NE(verdict.hint.find("ALTER SERVER hr OPTIONS (ADD allow_implicit_volatile 'true')"), std::string::npos);
  // the server option: allowed, said in a warning
  auto accepted = multidb::judge_implicit_matches(matches, VolatileAllowlist(), true, "hr");
  EXPECT_TRUE(accepted.allowed);
  EXPECT_TRUE(accepted.warn);
  EXPECT_NE(accepted.message.find("allow_implicit_volatile"), std::string::npos);
  // allowlisted by name or by signature: nothing to say
  EXPECT_TRUE(multidb::judge_implicit_matches(matches, VolatileAllowlist({"public.side"}), false, "hr").allowed);
  matches[0].allowed_by_signature = true;
  auto allowed = multidb::judge_implicit_matches(matches, VolatileAllowlist(), false, "hr");
  EXPECT_TRUE(allowed.allowed);
  EXPECT_FALSE(allowed.warn);
}

TEST(VolatileMatches, ALongListIsCut) {
  std::vector<VolatileMatch> matches;
  for (int i = 0; i < 12; i++)
    matches.push_back({"function", "", "public", "f" + std::to_string(i), "public.f" + std::to_string(i) + "()", false});
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
                           "pg_hba_file_rules", "pg_show_all_file_settings", "pg_ident_file_mappings",
                           // STABLE, yet they assign a transaction id inside READ ONLY
                           "txid_current", "pg_current_xact_id"})
    EXPECT_NE(denylist.denying_pattern(name), nullptr) << name;
}
