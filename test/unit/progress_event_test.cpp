// core/progress_event: one live-progress event's JSON, valid and ASCII whatever its texts hold.
#include "core/progress_event.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using multidb::progress_event_json;
using multidb::ProgressEvent;

namespace {

TEST(ProgressEvent, FieldsInOrder) {
  ProgressEvent event;
  event.event = "done";
  event.seq = 7;
  event.database = "production";
  event.counts = {{"rows", 600}};
  event.numbers = {{"ms", 12.34567}};
  EXPECT_EQ(progress_event_json(event), R"({"event":"done","seq":7,"database":"production","rows":600,"ms":12.346})");
}

TEST(ProgressEvent, ColumnsInTheStatementsOrderAndBounded) {
  ProgressEvent event;
  event.event = "done";
  event.seq = 3;
  event.database = "a";
  event.columns = std::vector<std::string>{"z", "a", "\xc3\xa9t\xc3\xa9"};
  EXPECT_EQ(progress_event_json(event), R"({"event":"done","seq":3,"database":"a","columns":["z","a","\u00e9t\u00e9"]})");
  event.columns = std::vector<std::string>(multidb::kProgressColumns + 5, "c");
  EXPECT_EQ(nlohmann::json::parse(progress_event_json(event))["columns"].size(), multidb::kProgressColumns);
  event.columns.reset();
  EXPECT_EQ(progress_event_json(event), R"({"event":"done","seq":3,"database":"a"})");
}

TEST(ProgressEvent, NoDatabaseWhereNoneIsMeant) {
  ProgressEvent event;
  event.event = "end";
  event.seq = 1;
  event.texts = {{"status", "ok"}};
  EXPECT_EQ(progress_event_json(event), R"({"event":"end","seq":1,"status":"ok"})");
}

TEST(ProgressEvent, PlanListsTheQueriesAndTheCombineStep) {
  ProgressEvent event;
  event.event = "plan";
  event.seq = 1;
  event.queries = std::vector<multidb::ProgressStep>{{"a", "SELECT 1"}, {"b", "SELECT 2"}};
  auto parsed = nlohmann::json::parse(progress_event_json(event));
  EXPECT_EQ(parsed["queries"][1]["database"], "b");
  EXPECT_TRUE(parsed["combine"].is_null());
  event.combine = "SELECT * FROM a UNION ALL SELECT * FROM b";
  parsed = nlohmann::json::parse(progress_event_json(event));
  EXPECT_EQ(parsed["combine"], "SELECT * FROM a UNION ALL SELECT * FROM b");
}

TEST(ProgressEvent, HostileTextsStayValidAsciiJson) {
  ProgressEvent event;
  event.event = "error";
  event.seq = 3;
  std::string hostile = "x\"}, {\"event\": \"end\"\n\\\t\x01 \xc3\xa9 \xff\xfe \xe2\x82";
  event.database = hostile;
  event.texts = {{"sqlstate", "42P01"}, {"message", hostile}};
  std::string text = progress_event_json(event);
  for (unsigned char c : text) EXPECT_LT(c, 0x80) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos);
  auto parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed["event"], "error");
  EXPECT_EQ(parsed.size(), 5u);
  std::string database = parsed["database"];
  EXPECT_EQ(database.substr(0, 24), hostile.substr(0, 24));
  EXPECT_NE(database.find("\xc3\xa9"), std::string::npos);      // valid UTF-8 kept
  EXPECT_NE(database.find("\xef\xbf\xbd"), std::string::npos);  // invalid bytes replaced
}

}  // namespace
