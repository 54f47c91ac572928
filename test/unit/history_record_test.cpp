// core/history_record: the record of an ask is always text jsonb accepts.
#include "core/history_record.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace multidb;
using nlohmann::json;

TEST(HistoryRecord, AlwaysStorableText) {
  nlohmann::json record;
  record["error"] = std::string("bad \xFF byte and a \0 NUL", 22);
  record["nested"] = {{"k\xFE", {std::string("x\0y", 3)}}};
  std::string text = history_record_text(record, true);
  EXPECT_EQ(valid_utf8(text), text);
  EXPECT_EQ(text.find("\\u0000"), std::string::npos) << text;
  std::string ascii = history_record_text({{"q", "caf\xC3\xA9 \xE2\x82\xAC"}}, false);
  EXPECT_EQ(ascii, R"({"q":"caf? ?"})");
}

TEST(HistoryRecord, OnlyWhatIsNotStorableChanges) {
  json record = {{"ok", {{"a", "caf\xC3\xA9"}, {"b", {1, "two"}}}}, {"bad key \xFF", {{"inner", "v"}}}};
  json stored = json::parse(history_record_text(record, true));
  EXPECT_EQ(stored["ok"], record["ok"]);
  EXPECT_EQ(stored["bad key \xEF\xBF\xBD"], json({{"inner", "v"}}));
  json ascii = json::parse(history_record_text({{"k\xC3\xA9", {{"x", "y"}, {"z", "\xC3\xA9"}}}, {"plain", "p"}}, false));
  EXPECT_EQ(ascii, json({{"k?", {{"x", "y"}, {"z", "?"}}}, {"plain", "p"}}));
}

TEST(HistoryRecord, TheDocumentHasExactlyItsKeys) {
  AskRecord ask;
  ask.question = "how many?";
  ask.status = "ok";
  ask.plan_json = R"({"queries": []})";
  ask.steps = {{"production", "SELECT 1"}, {"backup", "SELECT 2"}};
  ask.steps_ran = true;
  ask.step_rows = {3, 4};
  ask.step_ms = {1.5, 2.5};
  ask.combine_sql = "SELECT * FROM production";
  ask.combined_source = "combined";
  ask.combined_rows = 7;
  ask.prompt_tokens = 12;
  json record = json::parse(history_record_text(ask, true));
  std::vector<std::string> keys;
  for (const auto& item : record.items()) keys.push_back(item.key());
  std::vector<std::string> expected = history_record_keys();
  std::sort(keys.begin(), keys.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(record["databases_used"], json::array({"production", "backup", "combined"}));
  EXPECT_EQ(record["row_counts"], json({{"production", 3}, {"backup", 4}, {"combined", 7}}));
  EXPECT_EQ(record["plan"], json({{"queries", json::array()}}));
  EXPECT_EQ(record["prompt_tokens"], 12);
  EXPECT_TRUE(record["completion_tokens"].is_null());  // unknown
  EXPECT_TRUE(record["session_id"].is_null());
  EXPECT_NE(record["answer"].get<std::string>().find("backup: SELECT 2  -- 4 rows"), std::string::npos);
}

TEST(HistoryRecord, AnAskThatNeverRanKeepsItsQuestionAndError) {
  AskRecord ask;
  ask.question = "q";
  ask.error = std::string("the LLM's reply holds no plan \xFF");
  ask.plan_json = "not json";  // kept as text rather than lost
  json record = json::parse(history_record_text(ask, true));
  EXPECT_EQ(record["status"], "error");
  EXPECT_EQ(record["plan"], "not json");
  EXPECT_EQ(record["row_counts"], json::object());
  EXPECT_NE(record["answer"].get<std::string>().find("Failed: the LLM's reply holds no plan \xEF\xBF\xBD"), std::string::npos);
}

TEST(HistoryRecord, ACancelledAskSaysSo) {
  AskRecord ask;
  ask.question = "q";
  ask.status = "cancelled";
  ask.error = "canceling statement due to user request";
  json record = json::parse(history_record_text(ask, true));
  EXPECT_EQ(record["status"], "cancelled");
  std::string answer = record["answer"];
  EXPECT_NE(answer.find("Cancelled: canceling statement due to user request"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("Failed:"), std::string::npos) << answer;
}

TEST(HistoryRecord, AThousandDatabasesOfASetKeepOneKeyEach) {
  AskRecord ask;
  ask.question = "Which tenant has the most orders?";
  ask.status = "ok";
  ask.steps_ran = true;
  std::string plan = R"({"queries": [)";
  for (int i = 1; i <= 1000; i++) {
    std::string name = "t" + std::string(i < 10 ? "000" : i < 100 ? "00" : i < 1000 ? "0" : "") + std::to_string(i);
    ask.steps.push_back({name, "SELECT count(*) AS n FROM orders"});
    ask.step_rows.push_back(1);
    ask.step_ms.push_back(i / 10.0);
    plan += (i > 1 ? ", " : "") + json{{"database", name}, {"sql", "SELECT count(*) AS n FROM orders"}}.dump();
  }
  plan += R"(], "sets": [{"databases": ["@tenants"], "sql": "SELECT count(*) AS n FROM orders", "relation": "tenants"}]})";
  ask.plan_json = plan;
  ask.combine_sql = "SELECT source_db, n FROM tenants ORDER BY n DESC LIMIT 1";
  ask.combined_source = "combined";
  ask.combined_rows = 1;
  json record = json::parse(history_record_text(ask, true));
  EXPECT_EQ(record["row_counts"].size(), 1001u);
  EXPECT_EQ(record["timings_ms"].size(), 1001u);
  EXPECT_EQ(record["row_counts"]["t0734"], 1);
  EXPECT_DOUBLE_EQ(record["timings_ms"]["t1000"].get<double>(), 100.0);
  EXPECT_EQ(record["databases_used"].size(), 1001u);
  EXPECT_EQ(record["plan"]["queries"].size(), 1000u);
  EXPECT_EQ(record["plan"]["sets"][0]["databases"][0], "@tenants");
}
