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

// jsonb sorts a row's keys; the progress events' column names put them back in the statement's order.
TEST(GatewayAskResult, ColumnsInTheStatementsOrder) {
  const json rows = json::parse(R"([{"a": 2, "z": 1}])");
  EXPECT_EQ(infer_columns(rows, {"z", "a"}), json::parse(R"([{"name":"z","type":"number"},{"name":"a","type":"number"}])"));
  // A name used twice is one key; a name the rows lack is left out; a key the names lack comes after them.
  EXPECT_EQ(infer_columns(json::parse(R"([{"a": 2, "m": "x", "z": 1}])"), {"z", "z", "gone", "a"}),
            json::parse(R"([{"name":"z","type":"number"},{"name":"a","type":"number"},{"name":"m","type":"string"}])"));
  EXPECT_EQ(infer_columns(json::array(), {"z", "a"}), json::array());
}

TEST(GatewayAskResult, ColumnOrderFromProgressEvents) {
  ColumnOrder order;
  note_column_order(order, "done", json::parse(R"({"event":"done","database":"p","columns":["z","a"]})"));
  note_column_order(order, "combine", json::parse(R"({"event":"combine","columns":["total","n"]})"));
  note_column_order(order, "rows", json::parse(R"({"event":"rows","database":"q","columns":["x"]})"));
  note_column_order(order, "done", json::parse(R"({"event":"done","database":"r"})"));
  EXPECT_EQ(order.size(), 2u);
  EXPECT_EQ(order["p"], (std::vector<std::string>{"z", "a"}));
  EXPECT_EQ(order["combined"], (std::vector<std::string>{"total", "n"}));
  // A repaired plan's later done event replaces the first.
  note_column_order(order, "done", json::parse(R"({"event":"done","database":"p","columns":["b","a"]})"));
  EXPECT_EQ(order["p"], (std::vector<std::string>{"b", "a"}));

  json history = json::parse(R"({"id": 1, "status": "ok",
    "plan": {"queries": [{"database": "p", "sql": "SELECT 1 AS b, 2 AS a"}], "combine": "SELECT n, total FROM p"}})");
  std::vector<TaggedRow> tagged = {{"p", json{{"a", 2}, {"b", 1}}}, {"combined", json{{"n", 1}, {"total", 3}}}};
  json r = build_ask_result("q", nullptr, tagged, history, order);
  EXPECT_EQ(r["database_results"][0]["columns"][0]["name"], "b");
  EXPECT_EQ(r["combined"]["columns"][0]["name"], "total");
  EXPECT_EQ(r["combined"]["rows"][0], (json{{"n", 1}, {"total", 3}}));
}

// A plan run without an ask (a query spec's, by multidb.build): its progress events stand in for the history row.
TEST(GatewayAskResult, RunWithoutAnAskFromItsProgressEvents) {
  RunProgress progress;
  note_run_progress(progress, "plan", json::parse(R"({"event":"plan","queries":[]})"));
  note_run_progress(progress, "done", json::parse(R"({"event":"done","database":"p","rows":2,"ms":4.5,"columns":["status","count"]})"));
  note_run_progress(progress, "done", json::parse(R"({"event":"done","database":"q","rows":3,"ms":1.5,"columns":["status","count"]})"));
  note_run_progress(progress, "combine", json::parse(R"({"event":"combine","rows":2,"ms":1,"columns":["status","count"]})"));
  note_run_progress(progress, "end", json::parse(R"({"event":"end","rows":2,"ms":9,"status":"ok"})"));
  EXPECT_EQ(progress.row_counts, json::parse(R"({"p": 2, "q": 3})"));
  EXPECT_EQ(progress.timings_ms["p"], 4.5);
  EXPECT_EQ(progress.order["combined"], (std::vector<std::string>{"status", "count"}));
  EXPECT_EQ(progress.status, "ok");

  const json plan = json::parse(R"({"queries": [{"database": "p", "sql": "SELECT 1"}, {"database": "q", "sql": "SELECT 1"}],
    "combine": "SELECT status, sum(count) AS count FROM results GROUP BY status"})");
  const json history = run_history(plan, "orders: count per status", progress, 12.0);
  // Totals: only the combined rows come back; each database keeps its count and time, its rows empty.
  std::vector<TaggedRow> tagged = {{"combined", json{{"count", 5}, {"status", "paid"}}}};
  json r = build_ask_result("orders: count per status", nullptr, tagged, history, progress.order);
  ASSERT_EQ(r["database_results"].size(), 2u);
  EXPECT_EQ(r["database_results"][1]["connection_name"], "q");
  EXPECT_EQ(r["database_results"][1]["row_count"], 3);
  EXPECT_EQ(r["database_results"][1]["rows"], json::array());
  EXPECT_EQ(r["database_results"][0]["execution_time_ms"], 4.5);
  EXPECT_EQ(r["combined"]["columns"][0]["name"], "status");
  EXPECT_EQ(r["explanation"], "orders: count per status");
  EXPECT_TRUE(r["query_history_id"].is_null());
  EXPECT_EQ(r["timings"]["total_ms"], 12.0);
  EXPECT_EQ(r["cached"], false);

  // A database that failed under on_error = warn: partial, and that database's error.
  RunProgress partial;
  note_run_progress(partial, "done", json::parse(R"({"event":"done","database":"p","rows":1,"ms":1})"));
  note_run_progress(partial, "end", json::parse(R"({"event":"end","rows":1,"status":"partial"})"));
  const json fanout = json::parse(R"({"queries": [{"database": "p", "sql": "SELECT 1"}, {"database": "q", "sql": "SELECT 1"}]})");
  r = build_ask_result("d", nullptr, {{"p", json{{"x", 1}}}}, run_history(fanout, "d", partial, 2.0), partial.order);
  EXPECT_EQ(r["status"], "partial");
  EXPECT_TRUE(r["database_results"][0]["error"].is_null());
  EXPECT_FALSE(r["database_results"][1]["error"].is_null());
  EXPECT_TRUE(r["combined"].is_null());
}
