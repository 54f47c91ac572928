// The seed's multi-query answer built from multidb.ask's tagged rows and the ask's history row.
#include <gtest/gtest.h>

#include "gateway/ask_result.hpp"

using namespace multidb::gateway;
using nlohmann::json;

TEST(GatewayAskResult, DatabaseResultsCombineTimingsAndCache) {
  json history = json::parse(R"({"id": 42, "status": "ok", "error": null,
    "plan": {"queries": [{"database": "prod", "sql": "SELECT count(*) AS n FROM orders"},
                         {"database": "backup", "sql": "SELECT count(*) AS n FROM orders"}],
             "combine": "SELECT sum(n) AS total FROM results", "explanation": "Counts orders."},
    "row_counts": {"prod": 1, "backup": 1}, "timings_ms": {"prod": 3.5, "backup": 4.0},
    "llm_ms": 10.0, "exec_ms": 5.0, "total_ms": 16.0, "cached": "plan"})");
  std::vector<TaggedRow> rows = {{"combined", json{{"total", 7}}}};
  json r = build_ask_result("How many orders?", "sid", rows, history);
  ASSERT_EQ(r["database_results"].size(), 2u);
  EXPECT_EQ(r["database_results"][0]["connection_name"], "prod");
  EXPECT_EQ(r["database_results"][0]["sql"], "SELECT count(*) AS n FROM orders");
  EXPECT_EQ(r["database_results"][0]["row_count"], 1);
  EXPECT_EQ(r["database_results"][1]["execution_time_ms"], 4.0);
  EXPECT_TRUE(r["database_results"][1]["error"].is_null());
  EXPECT_EQ(r["combined"]["rows"][0]["total"], 7);
  EXPECT_EQ(r["combined"]["sql"], "SELECT sum(n) AS total FROM results");
  EXPECT_EQ(r["explanation"], "Counts orders.");
  EXPECT_EQ(r["query_history_id"], 42);
  EXPECT_EQ(r["timings"]["total_ms"], 16.0);
  EXPECT_EQ(r["cached"], true);
  EXPECT_EQ(r["cache"], "plan");
  EXPECT_EQ(r["chat_session_id"], "sid");
}

TEST(GatewayAskResult, RowsPerDatabaseAndAFailedOne) {
  json history = json::parse(R"({"id": 7, "status": "partial", "error": "connection \"b\": could not connect",
    "plan": {"queries": [{"database": "a", "sql": "SELECT id, name FROM t"}, {"database": "b", "sql": "SELECT id, name FROM t"}]},
    "row_counts": {"a": 2}, "timings_ms": {"a": 1.0}, "cached": null})");
  std::vector<TaggedRow> rows = {{"a", json{{"id", 1}, {"name", "x"}}}, {"a", json{{"id", 2}, {"name", nullptr}}}};
  json r = build_ask_result("q", nullptr, rows, history);
  EXPECT_EQ(r["database_results"][0]["rows"].size(), 2u);
  EXPECT_EQ(r["database_results"][0]["columns"], json::parse(R"([{"name":"id","type":"number"},{"name":"name","type":"string"}])"));
  EXPECT_EQ(r["database_results"][1]["row_count"], 0);
  EXPECT_FALSE(r["database_results"][1]["error"].is_null());
  EXPECT_TRUE(r["combined"].is_null());
  EXPECT_EQ(r["cached"], false);
  EXPECT_EQ(r["status"], "partial");
}

TEST(GatewayAskResult, ColumnTypes) {
  EXPECT_EQ(infer_columns(json::parse(R"([{"a": null, "b": 1}, {"a": "x", "b": "y"}])")),
            json::parse(R"([{"name":"a","type":"string"},{"name":"b","type":"mixed"}])"));
  EXPECT_EQ(infer_columns(json::array()), json::array());
}
