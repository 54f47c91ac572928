// multidb-web's live-progress streams, the pure parts: an event's text, the Accept check, progress NOTICEs
// read as events (and everything else ignored), run ids and their cancel flags (another role's run is as if
// absent), the per-role and per-stream slots given back when their last copy goes.
#include <gtest/gtest.h>

#include "gateway/event_stream.hpp"
#include "gateway/run_registry.hpp"

using namespace multidb::gateway;

TEST(GatewayEventStream, EventText) {
  EXPECT_EQ(sse_event("plan", nlohmann::json{{"seq", 1}}), "event: plan\ndata: {\"seq\":1}\n\n");
  // One data line whatever the JSON holds; non-ASCII escaped.
  std::string text = sse_event("error", nlohmann::json{{"message", "a\nb\xc3\xa9"}});
  EXPECT_EQ(text, "event: error\ndata: {\"message\":\"a\\nb\\u00e9\"}\n\n");
  EXPECT_EQ(sse_keep_alive(), ": keep-alive\n\n");
}

TEST(GatewayEventStream, Accept) {
  EXPECT_TRUE(wants_event_stream("text/event-stream"));
  EXPECT_TRUE(wants_event_stream("application/json, Text/Event-Stream;q=0.9"));
  EXPECT_FALSE(wants_event_stream("application/json"));
  EXPECT_FALSE(wants_event_stream(""));
}

TEST(GatewayEventStream, ProgressNotices) {
  auto e = progress_event("multidb progress: started", "{\"event\":\"started\",\"seq\":2,\"database\":\"a\"}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, "started");
  EXPECT_EQ(e->second["database"], "a");
  EXPECT_FALSE(progress_event("some other notice", "{}"));
  EXPECT_FALSE(progress_event("multidb progress: plan", "not json"));
  EXPECT_FALSE(progress_event("multidb progress: plan", "[1]"));
  EXPECT_FALSE(progress_event("multidb progress: bad name", "{}"));
  EXPECT_FALSE(progress_event("multidb progress: ", "{}"));
}

TEST(GatewayRunRegistry, RunsAndCancel) {
  RunRegistry runs(2, 1);
  auto run = runs.start("alice");
  EXPECT_EQ(run->id.size(), 32u);
  EXPECT_NE(runs.start("alice")->id, run->id);
  EXPECT_FALSE(runs.cancel(run->id, "bob"));
  EXPECT_FALSE(run->cancel);
  EXPECT_FALSE(runs.cancel("nope", "alice"));
  EXPECT_TRUE(runs.cancel(run->id, "alice"));
  EXPECT_TRUE(run->cancel);
  const std::string id = run->id;
  run.reset();
  EXPECT_FALSE(runs.cancel(id, "alice"));  // ended
}

TEST(GatewayRunRegistry, Slots) {
  RunRegistry runs(2, 1);
  auto a1 = runs.request_slot("alice");
  auto a2 = runs.request_slot("alice");
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(runs.request_slot("alice"));
  EXPECT_TRUE(runs.request_slot("bob"));
  auto copy = a1;
  a1.reset();
  EXPECT_FALSE(runs.request_slot("alice"));  // a copy still holds it
  copy.reset();
  EXPECT_EQ(runs.requests_of("alice"), 1);
  EXPECT_TRUE(runs.request_slot("alice"));
  auto s = runs.stream_slot();
  ASSERT_TRUE(s);
  EXPECT_FALSE(runs.stream_slot());
  s.reset();
  EXPECT_TRUE(runs.stream_slot());
}
