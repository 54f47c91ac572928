// Odd and hostile input to the pure core: text that is not UTF-8, numbers that are no counts, replies built
// to be slow, keys hidden in their own mask, history records that must always be storable.
#include "core/history_record.hpp"
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace multidb;

TEST(ValidUtf8, KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(valid_utf8("plain"), "plain");
  EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(valid_utf8(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}

TEST(BoundedCount, OnlyFiniteNonNegativeValuesInRange) {
  EXPECT_EQ(bounded_count(7, 100), 7);
  EXPECT_EQ(bounded_count(3e9, 2147483647), -1);
  EXPECT_EQ(bounded_count(1e300, 2147483647), -1);
  EXPECT_EQ(bounded_count(-1, 100), -1);
  EXPECT_EQ(bounded_count(0.0 / 0.0, 100), -1);
}

TEST(LlmReply, OddTokenCountsAreUnknownNotFatal) {
  LlmConfig config{"openai", "http://x", "m", "", 1000, 100};
  for (const char* usage : {R"({"prompt_tokens": 3000000000, "completion_tokens": 1e300})",
                            R"({"prompt_tokens": "many", "completion_tokens": -5})", R"("nothing")"}) {
    LlmReply reply = parse_llm_reply(
        config, 200, std::string(R"({"choices": [{"message": {"content": "hi"}}], "usage": )") + usage + "}");
    EXPECT_EQ(reply.text, "hi") << usage;
    EXPECT_EQ(reply.prompt_tokens, -1) << usage;
    EXPECT_EQ(reply.completion_tokens, -1) << usage;
  }
  LlmReply none = parse_llm_reply(config, 200, R"({"choices": [{"message": {"content": "hi"}}]})");
  EXPECT_EQ(none.prompt_tokens, -1);
}

TEST(LlmReply, AKeyInsideItsOwnMaskIsHiddenOnce) {
  LlmConfig config{"openai", "http://x", "m", "key", 1000, 100};
  try {
    parse_llm_reply(config, 401, R"({"error": {"message": "key key <key>"}})");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("<key> <key> <<key>>"), std::string::npos) << message;
  }
}

TEST(LlmReply, ErrorTextIsValidUtf8) {
  LlmConfig config{"openai", "http://x", "m", "", 1000, 100};
  try {
    parse_llm_reply(config, 500, "\xFF\xFE overloaded");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_EQ(valid_utf8(message), message);
    EXPECT_NE(message.find("overloaded"), std::string::npos);
  }
}

TEST(PlanParser, NestedBracesCostLinearTime) {
  const std::vector<std::string> attached = {"shop"};
  std::string braces = std::string(500000, '{') + std::string(500000, '}');
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(parse_plan(braces, attached), PlanError);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0) << "1 MB of nested braces took " << seconds << " s";
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
