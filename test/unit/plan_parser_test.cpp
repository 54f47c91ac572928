// core/plan_parser: plans in JSON and plain form, the combine step, errors, and replies built to hurt.
#include "core/plan_parser.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

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
