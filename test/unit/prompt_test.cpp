// core/prompt: what the LLM is told, repairs, and the plan cache key's material.
#include "core/prompt.hpp"
#include "core/schema_model.hpp"

#include "shop_schema.hpp"

#include <gtest/gtest.h>

using namespace multidb;

TEST(Prompt, RulesSchemaHistoryThenTheQuestionVerbatim) {
  PromptInput input{{"production", "backup"}, "database \"production\", table public.orders\n", {{"q1", "a1"}}, "And 2024?", {}};
  std::vector<ChatMessage> messages = build_plan_prompt(input);
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_NE(messages[0].content.find("\"production\", \"backup\""), std::string::npos);
  EXPECT_NE(messages[0].content.find("ONLY a JSON object"), std::string::npos);
  EXPECT_NE(messages[1].content.find("table public.orders"), std::string::npos);
  EXPECT_EQ(messages[2].role, "user");
  EXPECT_EQ(messages[2].content, "q1");
  EXPECT_EQ(messages[3].role, "assistant");
  EXPECT_EQ(messages[4].role, "user");
  EXPECT_EQ(messages[4].content, "And 2024?");
}

TEST(Prompt, RepairCarriesTheFailingSqlAndError) {
  PromptInput input{{"production"}, "", {}, "q", {}};
  auto messages = build_repair_prompt(input, "{previous}", {{{"production", "SELECT amount FROM t"}, "column \"amount\" does not exist"}});
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[3].role, "assistant");
  EXPECT_EQ(messages[3].content, "{previous}");
  EXPECT_NE(messages[4].content.find("SELECT amount FROM t"), std::string::npos);
  EXPECT_NE(messages[4].content.find("column \"amount\" does not exist"), std::string::npos);
  EXPECT_NE(messages[4].content.find("SQLSTATE and condition name; a value it quoted may be masked"), std::string::npos);
}

TEST(Prompt, RulesNameTheCombineTables) {
  std::vector<ChatMessage> messages = build_plan_prompt(PromptInput{{"tenant_01", "tenant_02"}, "", {}, "q", {}});
  EXPECT_NE(messages[0].content.find("\"combine\""), std::string::npos);
  EXPECT_NE(messages[0].content.find("a table named exactly like that database"), std::string::npos);
}

TEST(Prompt, CombineRepairCarriesTheSqlErrorAndTables) {
  auto messages = build_combine_repair_prompt(PromptInput{{"production", "backup"}, "", {}, "q", {}}, "{previous}",
                                              "SELECT total FROM production", "column \"total\" does not exist",
                                              "production (id integer, amount numeric), backup (id integer)");
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[3].content, "{previous}");
  EXPECT_NE(messages[4].content.find("SELECT total FROM production"), std::string::npos);
  EXPECT_NE(messages[4].content.find("column \"total\" does not exist"), std::string::npos);
  EXPECT_NE(messages[4].content.find("production (id integer, amount numeric)"), std::string::npos);
  EXPECT_NE(messages[4].content.find("whole corrected plan"), std::string::npos);
  EXPECT_NE(messages[4].content.find("a value it quoted may be masked as \"\xE2\x80\xA6\""), std::string::npos);
}

TEST(Prompt, RulesSayWhatTheCombineStepMayCall) {
  std::vector<ChatMessage> messages = build_plan_prompt(PromptInput{{"tenant_01"}, "", {}, "q", {}});
  EXPECT_NE(messages[0].content.find("functions on values"), std::string::npos);
  EXPECT_NE(messages[0].content.find("no function that reads the server"), std::string::npos);
}

TEST(Prompt, CacheKeyMaterialDependsOnMessagesAndModel) {
  std::vector<ChatMessage> messages = {{"user", "q"}};
  EXPECT_EQ(plan_cache_key_material(messages, "m"), plan_cache_key_material(messages, "m"));
  EXPECT_NE(plan_cache_key_material(messages, "m"), plan_cache_key_material(messages, "n"));
  EXPECT_NE(plan_cache_key_material(messages, "m"), plan_cache_key_material({{"user", "q2"}}, "m"));
  // Fields cannot run into each other: moving text between the question and the model changes the key.
  EXPECT_NE(plan_cache_key_material({{"user", "ab"}}, "c"), plan_cache_key_material({{"user", "a"}}, "bc"));
  EXPECT_NE(plan_cache_key_material({{"user", "a"}, {"user", "b"}}, "m"), plan_cache_key_material({{"user", "a\"b"}}, "m"));
}
