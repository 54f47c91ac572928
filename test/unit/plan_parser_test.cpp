// core/plan_parser: plans in JSON and plain form, the combine step, errors, and replies built to hurt; sets of
// databases (a group, a list, every attached one) expanded, their errors, and the JSON a stored plan keeps.
#include "core/plan_parser.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace multidb;
using nlohmann::json;

namespace {

std::vector<std::string> attached = {"production", "backup"};

// The PlanError parse_plan raises for reply, or "no error".
std::string plan_error(const std::string& reply) {
  try {
    parse_plan(reply, attached);
  } catch (const PlanError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(PlanParser, JsonForms) {
  const char* json_plan = R"({"queries": [{"database": "production", "sql": "SELECT 1;"}], "explanation": "why"})";
  Plan plan = parse_plan(json_plan, attached);
  ASSERT_EQ(plan.queries.size(), 1u);
  EXPECT_EQ(plan.queries[0].sql, "SELECT 1");
  EXPECT_EQ(plan.explanation, "why");
  EXPECT_EQ(parse_plan(std::string("```json\n") + json_plan + "\n```", attached).queries[0].database, "production");
  EXPECT_EQ(parse_plan(std::string("Sure! Here it is: ") + json_plan + " Hope it helps {", attached).queries.size(), 1u);
  Plan mixed = parse_plan(R"({"queries": [{"database": "BACKUP", "sql": "SELECT '}'"}]})", attached);
  EXPECT_EQ(mixed.queries[0].database, "backup");
  EXPECT_EQ(mixed.queries[0].sql, "SELECT '}'");
}

TEST(PlanParser, PlainForm) {
  Plan plan = parse_plan(
      "DATABASE: production\n```sql\nSELECT count(*)\nFROM orders;\n```\nCounts orders.\n"
      "DATABASE: Backup\nSELECT 2\nEXPLANATION: both sides",
      attached);
  ASSERT_EQ(plan.queries.size(), 2u);
  EXPECT_EQ(plan.queries[0].sql, "SELECT count(*)\nFROM orders");
  EXPECT_EQ(plan.queries[1].database, "backup");
  EXPECT_EQ(plan.queries[1].sql, "SELECT 2");
  EXPECT_EQ(plan.explanation, "Counts orders. both sides");
}

TEST(PlanParser, CombineStep) {
  Plan plan = parse_plan(
      R"({"queries": [{"database": "production", "sql": "SELECT id FROM customers"},
                      {"database": "backup", "sql": "SELECT id FROM customers"}],
          "combine": "SELECT id FROM production EXCEPT SELECT id FROM backup;\n", "explanation": "missing"})",
      attached);
  EXPECT_EQ(plan.combine, "SELECT id FROM production EXCEPT SELECT id FROM backup");
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}], "combine": null})", attached).combine, "");

  Plan plain = parse_plan(
      "DATABASE: production\nSELECT id FROM customers\nDATABASE: backup\nSELECT id FROM customers\n"
      "COMBINE:\n```sql\nSELECT id FROM production\nEXCEPT SELECT id FROM backup;\n```\nEXPLANATION: missing ones",
      attached);
  ASSERT_EQ(plain.queries.size(), 2u);
  EXPECT_EQ(plain.queries[1].sql, "SELECT id FROM customers");
  EXPECT_EQ(plain.combine, "SELECT id FROM production\nEXCEPT SELECT id FROM backup");
  EXPECT_EQ(plain.explanation, "missing ones");
  EXPECT_EQ(parse_plan("DATABASE: backup\nSELECT 1 AS n\nCOMBINE: SELECT max(n) FROM backup", attached).combine,
            "SELECT max(n) FROM backup");

  EXPECT_NE(plan_error(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}], "combine": 7})").find("\"combine\" is not"),
            std::string::npos);
  // Structured output always sends "combine": an empty one is none.
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}], "combine": " ; "})", attached).combine, "");
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}], "combine": ""})", attached).combine, "");
  EXPECT_NE(plan_error(R"({"queries": [], "combine": "SELECT 1"})").find("has no queries"), std::string::npos);
  EXPECT_NE(plan_error("DATABASE: backup\nSELECT 1\nCOMBINE: SELECT 1\nCOMBINE: SELECT 2").find("more than one COMBINE"),
            std::string::npos);
}

TEST(PlanParser, ErrorsQuoteTheReplyAndListTheAttachedDatabases) {
  EXPECT_EQ(plan_error(R"({"queries": [{"database": "staging", "sql": "SELECT 1"}]})"),
            "the plan names database \"staging\", which is not attached; attached: production, backup. The reply "
            "began: {\"queries\": [{\"database\": \"staging\", \"sql\": \"SELECT 1\"}]}");
  EXPECT_NE(plan_error(R"({"queries": []})").find("has no queries"), std::string::npos);
  EXPECT_NE(plan_error(R"({"queries": [{"database": "backup", "sql": " ; "}]})").find("no SQL"), std::string::npos);
  EXPECT_NE(plan_error(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}, {"database": "Backup", "sql": "SELECT 2"}]})")
                .find("twice"),
            std::string::npos);
  // Prose without a brace: the model did not try to plan, and the message says so.
  EXPECT_EQ(plan_error("I do not know."),
            "the LLM's reply holds no plan: the model answered in prose (it may have declined the question); "
            "attached: production, backup. The reply began: I do not know.");
  EXPECT_EQ(plan_error("Here is the plan: {queries: production}"),
            "the LLM's reply holds no plan (neither the JSON form nor DATABASE: blocks); attached: production, "
            "backup. The reply began: Here is the plan: {queries: production}");
  EXPECT_NE(plan_error(R"({"queries": [{"db": "backup"}]})").find("malformed"), std::string::npos);
}

TEST(PlanParser, JsonRoundTrip) {
  Plan plan{{{"production", "SELECT 1"}, {"backup", "SELECT 2"}}, "", "both", {}};
  Plan again = plan_from_json(plan_to_json(plan));
  EXPECT_EQ(again.queries[1].sql, "SELECT 2");
  EXPECT_EQ(again.combine, "");
  EXPECT_EQ(plan_to_json(plan).find("combine"), std::string::npos);
  plan.combine = "SELECT * FROM production EXCEPT SELECT * FROM backup";
  EXPECT_EQ(plan_from_json(plan_to_json(plan)).combine, plan.combine);
  EXPECT_EQ(again.explanation, "both");
  EXPECT_THROW(plan_from_json("[]"), PlanError);
}

TEST(PlanParser, NestedBracesCostLinearTime) {
  const std::vector<std::string> attached = {"shop"};
  std::string braces = std::string(500000, '{') + std::string(500000, '}');
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(parse_plan(braces, attached), PlanError);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Linear is milliseconds, quadratic on 1 MB hours: a generous bound tells them apart even on a loaded machine.
  EXPECT_LT(seconds, 30.0) << "1 MB of nested braces took " << seconds << " s";
  // and a plan after a great deal of brace noise is still found
  std::string noisy = std::string(2000, '{') + " then " +
                      R"({"queries": [{"database": "shop", "sql": "SELECT 1"}]})";
  EXPECT_EQ(parse_plan(noisy, attached).queries.at(0).sql, "SELECT 1");
}

TEST(PlanParser, APlanInsideAnotherObjectIsFound) {
  Plan plan = parse_plan(R"({"answer": {"queries": [{"database": "shop", "sql": "SELECT 2"}]}})", {"shop"});
  EXPECT_EQ(plan.queries.at(0).sql, "SELECT 2");
}

TEST(PlanParser, NulOrInvalidUtf8InSqlIsABadPlan) {
  EXPECT_THROW(parse_plan(R"({"queries": [{"database": "shop", "sql": "SELECT 1\u0000; DROP TABLE t"}]})", {"shop"}),
               PlanError);
  EXPECT_THROW(parse_plan("DATABASE: shop\nSELECT '\xFF'", {"shop"}), PlanError);
}

TEST(PlanParser, AnExplanationThatIsNotUtf8IsMadeValid) {
  // found by fuzzing: plan_to_json threw on it
  Plan plan = parse_plan("DATABASE: shop\nSELECT 1\nEXPLANATION: caf\xFF", {"shop"});
  EXPECT_EQ(plan.explanation, "caf\xEF\xBF\xBD");
  EXPECT_NO_THROW(plan_to_json(plan));
}

TEST(PlanParser, LenientWhereModelsSlipStrictWhereItMatters) {
  // A raw line break inside the SQL string, and trailing commas: mended.
  Plan plan = parse_plan("{\"queries\": [{\"database\": \"backup\", \"sql\": \"SELECT 1\n  FROM t\",},],\n"
                         "\"explanation\": \"two\tlines\",}",
                         attached);
  ASSERT_EQ(plan.queries.size(), 1u);
  EXPECT_EQ(plan.queries[0].sql, "SELECT 1\n  FROM t");
  EXPECT_EQ(plan.explanation, "two\tlines");
  // A comma inside a string is not a slip.
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "backup", "sql": "SELECT ',}' AS x"}]})", attached).queries[0].sql,
            "SELECT ',}' AS x");
  // Never lenient about where SQL goes.
  EXPECT_NE(plan_error("{\"queries\": [{\"database\": \"staging\", \"sql\": \"SELECT\n1\",}]}").find("not attached"),
            std::string::npos);
}

// ---- sets of databases ---------------------------------------------------------------------------------

namespace plan_sets {
namespace {

// Attached in this order: a connection, then the members of @tenants, then another one.
const std::vector<std::string> attached = {"hq", "t03", "t01", "t02", "archive"};
const std::vector<DatabaseGroup> groups = {{"tenants", {"t01", "t02", "t03"}}, {"@old", {"archive"}}};

std::string set_error(const std::string& reply, const std::vector<std::string>& names = attached,
                      const std::vector<DatabaseGroup>& with_groups = groups) {
  try {
    parse_plan(reply, names, with_groups);
  } catch (const PlanError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> databases_of(const Plan& plan) {
  std::vector<std::string> names;
  for (const PlannedQuery& query : plan.queries) names.push_back(query.database);
  return names;
}

std::string numbered(const std::string& stem, int i, int width) {
  std::string digits = std::to_string(i);
  return stem + std::string(width - digits.size(), '0') + digits;
}

}  // namespace

TEST(PlanSets, AGroupIsExpandedInTheAttachedOrder) {
  Plan plan = parse_plan(R"({"queries": [{"databases": ["@Tenants"], "sql": "SELECT count(*) AS n FROM orders;"},
                                          {"database": "hq", "sql": "SELECT 1"}],
                             "combine": "SELECT source_db, n FROM tenants ORDER BY n DESC LIMIT 1"})",
                         attached, groups);
  EXPECT_EQ(databases_of(plan), (std::vector<std::string>{"t03", "t01", "t02", "hq"}));
  EXPECT_EQ(plan.queries[0].sql, "SELECT count(*) AS n FROM orders");
  ASSERT_EQ(plan.sets.size(), 1u);
  EXPECT_EQ(plan.sets[0].databases, std::vector<std::string>{"@tenants"});
  EXPECT_EQ(plan.sets[0].members, (std::vector<std::string>{"t03", "t01", "t02"}));
  EXPECT_EQ(plan.sets[0].relation, "tenants");
  EXPECT_EQ(plan.sets[0].sql, "SELECT count(*) AS n FROM orders");
}

TEST(PlanSets, EveryAttachedDatabaseAListAndTheOtherSpellings) {
  Plan all = parse_plan(R"({"queries": [{"databases": ["*"], "sql": "SELECT 1"}]})", attached, groups);
  EXPECT_EQ(databases_of(all), attached);
  EXPECT_EQ(all.sets.at(0).relation, kAllDatabasesRelation);
  // A list of names: expanded in the attached order, with no relation of its own.
  Plan list = parse_plan(R"({"queries": [{"databases": ["ARCHIVE", "t01"], "sql": "SELECT 1"}]})", attached, groups);
  EXPECT_EQ(databases_of(list), (std::vector<std::string>{"t01", "archive"}));
  EXPECT_EQ(list.sets.at(0).databases, (std::vector<std::string>{"archive", "t01"}));
  EXPECT_EQ(list.sets.at(0).relation, "");
  // Two groups in one list: no relation either.
  EXPECT_EQ(parse_plan(R"({"queries": [{"databases": ["@tenants", "@old"], "sql": "SELECT 1"}]})", attached, groups)
                .sets.at(0).relation, "");
  // "database": "@g" and "*" are sets too.
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "@tenants", "sql": "SELECT 1"}]})", attached, groups).queries.size(), 3u);
  EXPECT_EQ(parse_plan(R"({"queries": [{"database": "*", "sql": "SELECT 1"}]})", attached, groups).queries.size(), 5u);
}

TEST(PlanSets, ThePlainForm) {
  Plan plan = parse_plan("DATABASE: @tenants\n```sql\nSELECT count(*) AS n FROM orders;\n```\n"
                         "DATABASE: hq\nSELECT 2\n"
                         "COMBINE: SELECT source_db, n FROM tenants ORDER BY n DESC LIMIT 1",
                         attached, groups);
  EXPECT_EQ(databases_of(plan), (std::vector<std::string>{"t03", "t01", "t02", "hq"}));
  EXPECT_EQ(plan.sets.at(0).relation, "tenants");
  EXPECT_EQ(plan.combine, "SELECT source_db, n FROM tenants ORDER BY n DESC LIMIT 1");
  Plan all = parse_plan("DATABASE: *\nSELECT 1", attached, groups);
  EXPECT_EQ(all.queries.size(), attached.size());
  EXPECT_EQ(all.sets.at(0).databases, std::vector<std::string>{"*"});
}

TEST(PlanSets, ErrorsNameTheSetAndWhatIsAttached) {
  EXPECT_EQ(set_error(R"({"queries": [{"databases": ["@eu"], "sql": "SELECT 1"}]})"),
            "the plan names the set \"@eu\", which is not an attached group; attached: hq, t03, t01, t02, archive; "
            "attached groups: @tenants (3 databases), @old (1 database). The reply began: {\"queries\": "
            "[{\"databases\": [\"@eu\"], \"sql\": \"SELECT 1\"}]}");
  // A group is only a set when the ask attached it, whatever its name.
  EXPECT_NE(set_error("DATABASE: @tenants\nSELECT 1", attached, {}).find("\"@tenants\", which is not an attached group"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["t01", "staging"], "sql": "SELECT 1"}]})")
                .find("the plan names database \"staging\" in the set [t01, staging], which is not attached"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["@tenants"], "sql": "SELECT 1"},
                                      {"database": "T02", "sql": "SELECT 2"}]})")
                .find("the plan reaches database \"t02\" twice (through the set @tenants, and by name)"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["@tenants"], "sql": "SELECT 1"},
                                      {"databases": ["*"], "sql": "SELECT 2"}]})")
                .find("the plan reaches database \"t03\" twice (through the set @tenants, and through the set *)"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["@tenants", "t01"], "sql": "SELECT 1"}]})")
                .find("the set [@tenants, t01] names database \"t01\" twice"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["*", "hq"], "sql": "SELECT 1"}]})").find("\"*\" alone"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": [], "sql": "SELECT 1"}]})").find("empty set"), std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": ["@tenants"], "sql": " ; "}]})").find("no SQL for the set @tenants"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"databases": "@tenants", "sql": "SELECT 1"}]})").find("malformed"),
            std::string::npos);
  EXPECT_NE(set_error(R"({"queries": [{"database": "hq", "databases": ["t01"], "sql": "SELECT 1"}]})").find("both"),
            std::string::npos);
  // A group with no members, and one with a member the ask did not attach.
  EXPECT_NE(set_error("DATABASE: @none\nSELECT 1", attached, {{"none", {}}}).find("has no databases"), std::string::npos);
  EXPECT_NE(set_error("DATABASE: @more\nSELECT 1", attached, {{"more", {"t01", "t09"}}})
                .find("database \"t09\" (a member of @more), which is not attached"),
            std::string::npos);
  // The set's relation may not be a database's name.
  EXPECT_NE(set_error("DATABASE: @hq\nSELECT 1\nDATABASE: hq\nSELECT 2", attached, {{"hq", {"t01"}}})
                .find("relation \"hq\", which is also a database's"),
            std::string::npos);
}

TEST(PlanSets, MessagesStayShortAtAThousandDatabases) {
  std::vector<std::string> many;
  for (int i = 1; i <= 1000; i++) many.push_back(numbered("t", i, 4));
  std::vector<DatabaseGroup> tenant_group = {{"tenants", many}};
  std::string message = set_error(R"({"queries": [{"databases": ["@eu"], "sql": "SELECT 1"}]})", many, tenant_group);
  EXPECT_NE(message.find("attached: t0001 \xE2\x80\xA6 t1000 (group @tenants); attached groups: @tenants (1000 databases)"),
            std::string::npos)
      << message;
  EXPECT_LT(message.size(), 600u);
  // Without a group, and with names that run in no sequence: "and N more".
  std::vector<std::string> odd;
  for (int i = 0; i < 1000; i++) odd.push_back("db_" + std::to_string(i * 7) + "x");
  std::string long_list = set_error("DATABASE: nowhere\nSELECT 1", odd, {});
  EXPECT_NE(long_list.find(" more. The reply began"), std::string::npos) << long_list;
  EXPECT_LT(long_list.size(), 800u);
  // A name of a megabyte is shown short.
  EXPECT_LT(set_error(R"({"queries": [{"database": ")" + std::string(1 << 20, 'x') + R"(", "sql": "SELECT 1"}]})").size(),
            1000u);
}

TEST(PlanSets, LargeInputsCostLinearTime) {
  std::vector<std::string> many;
  for (int i = 1; i <= 1000; i++) many.push_back(numbered("t", i, 4));
  std::vector<DatabaseGroup> tenant_group = {{"tenants", many}};
  auto start = std::chrono::steady_clock::now();
  Plan plan = parse_plan(R"({"queries": [{"databases": ["@tenants"], "sql": "SELECT 1"}]})", many, tenant_group);
  EXPECT_EQ(plan.queries.size(), 1000u);
  // A list of 100,000 names (each attached database 100 times): refused at the first repeat, quickly.
  std::string list = R"({"queries": [{"databases": [)";
  for (int i = 0; i < 100000; i++) list += (i ? ",\"" : "\"") + many[i % 1000] + "\"";
  list += R"(], "sql": "SELECT 1"}]})";
  EXPECT_NE(set_error(list, many, tenant_group).find("names database \"t0001\" twice"), std::string::npos);
  // 100,000 names none of which is attached: the first one is the error.
  std::string unknown = R"({"queries": [{"databases": [)";
  for (int i = 0; i < 100000; i++) unknown += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  unknown += R"(], "sql": "SELECT 1"}]})";
  EXPECT_NE(set_error(unknown, many, tenant_group).find("\"u0\""), std::string::npos);
  // One statement of a megabyte for 1,000 databases would be a gigabyte of SQL: refused.
  std::string huge = R"({"queries": [{"databases": ["*"], "sql": "SELECT ')" + std::string(1 << 20, 'x') + R"('"}]})";
  EXPECT_NE(set_error(huge, many, tenant_group).find("MB of SQL"), std::string::npos);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 20.0);
}

TEST(PlanSets, JsonKeepsTheSetsAndOldPlansStillRead) {
  Plan plan = parse_plan(R"({"queries": [{"databases": ["@tenants"], "sql": "SELECT count(*) AS n FROM orders"},
                                          {"databases": ["hq", "archive"], "sql": "SELECT 2"}],
                             "combine": "SELECT * FROM tenants", "explanation": "why"})",
                         attached, groups);
  json written = json::parse(plan_to_json(plan));
  EXPECT_EQ(written["queries"].size(), 5u);
  EXPECT_EQ(written["queries"][0], (json{{"database", "t03"}, {"sql", "SELECT count(*) AS n FROM orders"}}));
  EXPECT_EQ(written["sets"][0], (json{{"databases", {"@tenants"}},
                                      {"sql", "SELECT count(*) AS n FROM orders"},
                                      {"relation", "tenants"},
                                      {"members", {"t03", "t01", "t02"}}}));
  EXPECT_TRUE(written["sets"][1]["relation"].is_null());
  Plan again = plan_from_json(plan_to_json(plan));
  EXPECT_EQ(databases_of(again), databases_of(plan));
  ASSERT_EQ(again.sets.size(), 2u);
  EXPECT_EQ(again.sets[0].members, plan.sets[0].members);
  EXPECT_EQ(again.sets[0].relation, "tenants");
  EXPECT_EQ(again.sets[1].relation, "");
  EXPECT_EQ(plan_to_json(again), plan_to_json(plan));
  // A plan without sets is written as before (no "sets" key), and an old plan reads with none.
  Plan old = plan_from_json(R"({"queries": [{"database": "hq", "sql": "SELECT 1"}], "explanation": ""})");
  EXPECT_TRUE(old.sets.empty());
  EXPECT_EQ(plan_to_json(old).find("sets"), std::string::npos);
  // Stored sets must hold together.
  EXPECT_THROW(plan_from_json(R"({"queries": [{"database": "hq", "sql": "SELECT 1"}],
                                  "sets": [{"databases": ["@g"], "sql": "SELECT 1", "relation": "g", "members": ["t01"]}]})"),
               PlanError);
  EXPECT_THROW(plan_from_json(R"({"queries": [{"database": "hq", "sql": "SELECT 1"}],
                                  "sets": [{"databases": ["@hq"], "sql": "SELECT 1", "relation": "hq", "members": ["hq"]}]})"),
               PlanError);
  EXPECT_THROW(plan_from_json(R"({"queries": [{"databases": ["@g"], "sql": "SELECT 1"}]})"), PlanError);
  EXPECT_THROW(plan_from_json(R"({"queries": [], "sets": {}})"), PlanError);
}

TEST(PlanSets, AStoredPlanShownBackToTheModelKeepsItsSets) {
  Plan plan = parse_plan(R"({"queries": [{"databases": ["@tenants"], "sql": "SELECT 1 AS n"}], "combine": "SELECT * FROM tenants"})",
                         attached, groups);
  Plan back = parse_plan(plan_to_json(plan), attached, groups);
  EXPECT_EQ(databases_of(back), databases_of(plan));
  ASSERT_EQ(back.sets.size(), 1u);
  EXPECT_EQ(back.sets[0].relation, "tenants");
  // A set whose members lack a query is no plan.
  EXPECT_NE(set_error(R"({"queries": [{"database": "t01", "sql": "SELECT 1"}],
                          "sets": [{"databases": ["@tenants"], "sql": "SELECT 1"}]})")
                .find("reaches database \"t03\", which has no query"),
            std::string::npos);
}

}  // namespace plan_sets
