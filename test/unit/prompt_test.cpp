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

TEST(Prompt, RulesListAFleetCompactlyAndTheGroupsOnce) {
  PromptInput input;
  for (int i = 1; i <= 1000; i++) input.databases.push_back("t" + std::to_string(10000 + i).substr(1));
  input.groups = {{"tenants", input.databases}};
  input.databases.push_back("production");
  input.databases.push_back("backup");
  input.question = "q";
  EXPECT_EQ(prompt_database_list(input),
            "the group @tenants (t0001 \xE2\x80\xA6 t1000, 1,000 databases), and \"production\", \"backup\"");
  std::string rules = build_plan_prompt(input)[0].content;
  EXPECT_EQ(rules.find("t0002"), std::string::npos) << "no member written out";
  EXPECT_LT(rules.size(), 5000u);
  // Ungrouped names past kMaxNamesQuoted: written compactly as well.
  input.groups.clear();
  EXPECT_EQ(prompt_database_list(input), "backup, production, t0001 \xE2\x80\xA6 t1000 (1,002 databases)");
  // A group none of whose members is attached is not listed; a group's name is written with one "@".
  EXPECT_EQ(prompt_database_list(PromptInput{{"a", "b"}, "", {}, "q", {{"@other", {"z"}}, {"@ab", {"a", "b"}}}}),
            "the group @ab (a, b, 2 databases)");
}

TEST(Prompt, RulesSayHowAPlanNamesASetAndHowTheCombineStepReadsIt) {
  std::vector<ChatMessage> messages =
      build_plan_prompt(PromptInput{{"t01", "t02", "t03", "shop"}, "", {}, "q", {{"tenants", {"t01", "t02", "t03"}}}});
  const std::string& rules = messages[0].content;
  EXPECT_NE(rules.find("the group @tenants (t01 \xE2\x80\xA6 t03, 3 databases) and \"shop\""), std::string::npos)
      << rules;
  EXPECT_NE(rules.find("{\"databases\": [...], \"sql\": \"<one SELECT>\"} runs that statement on each of them"),
            std::string::npos);
  EXPECT_NE(rules.find("a group listed above ([\"@tenants\"]: each of its members)"), std::string::npos);
  EXPECT_NE(rules.find("[\"*\"] (every database listed above)"), std::string::npos);
  EXPECT_NE(rules.find("write one entry for the set, not one entry per database"), std::string::npos);
  EXPECT_NE(rules.find("with source_db (the database's name) as its first column"), std::string::npos);
  EXPECT_NE(rules.find("a group's is named like the group without \"@\" (tenants)"), std::string::npos);
  EXPECT_NE(rules.find("[\"*\"]'s is all_databases"), std::string::npos);
  // Without a group, no group is offered as an example (a plan naming one would be refused).
  std::string plain = build_plan_prompt(PromptInput{{"production", "backup"}, "", {}, "q", {}})[0].content;
  EXPECT_EQ(plain.find("@"), std::string::npos) << plain;
  EXPECT_NE(plain.find("[\"*\"]'s is all_databases"), std::string::npos);
  // One database and no group: nothing about sets.
  std::string one = build_plan_prompt(PromptInput{{"production"}, "", {}, "q", {}})[0].content;
  EXPECT_EQ(one.find("\"databases\""), std::string::npos);
  EXPECT_EQ(one.find("source_db"), std::string::npos);
}
