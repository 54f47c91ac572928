// The pure C++ pieces of asking: schema model and its prompt text, the two LLM protocols, plan parsing,
// prompts and the plan cache key.
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"
#include "core/prompt.hpp"
#include "core/schema_model.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace multidb;
using nlohmann::json;

namespace {

const char* kShop = R"json({"tables": [
  {"schema": "public", "name": "customers", "kind": "table", "comment": null, "rows": 120,
   "columns": [{"name": "id", "type": "integer", "nullable": false, "comment": null},
               {"name": "country", "type": "text", "nullable": false, "comment": "ISO code"}],
   "primary_key": ["id"], "foreign_keys": null},
  {"schema": "public", "name": "orders", "kind": "table", "comment": "one purchase", "rows": 600,
   "columns": [{"name": "id", "type": "integer", "nullable": false},
               {"name": "customer_id", "type": "integer", "nullable": false},
               {"name": "total", "type": "numeric(12,2)", "nullable": true}],
   "primary_key": ["id"],
   "foreign_keys": [{"columns": ["customer_id"], "references": "public.customers", "ref_columns": ["id"]}]}]})json";

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

TEST(SchemaModel, ReadsTheIntrospectionDocument) {
  DatabaseSchema schema = schema_from_json("production", kShop);
  ASSERT_EQ(schema.tables.size(), 2u);
  EXPECT_EQ(schema.tables[1].name, "orders");
  EXPECT_EQ(schema.tables[1].comment, "one purchase");
  EXPECT_EQ(schema.tables[1].estimated_rows, 600);
  EXPECT_FALSE(schema.tables[1].columns[0].nullable);
  EXPECT_EQ(schema.tables[0].columns[1].comment, "ISO code");
  ASSERT_EQ(schema.tables[1].foreign_keys.size(), 1u);
  EXPECT_EQ(schema.tables[1].foreign_keys[0].references, "public.customers");
  EXPECT_THROW(schema_from_json("x", "{\"tables\": 5}"), std::invalid_argument);
  EXPECT_THROW(schema_from_json("x", "not json"), std::invalid_argument);
}

TEST(SchemaModel, JsonRoundTrip) {
  DatabaseSchema schema = schema_from_json("production", kShop);
  DatabaseSchema again = schema_from_json("production", schema_to_json(schema));
  EXPECT_EQ(schema_to_json(again), schema_to_json(schema));
}

TEST(SchemaModel, FingerprintIgnoresOrderAndRowEstimatesButNotTypes) {
  DatabaseSchema schema = schema_from_json("production", kShop);
  std::string fingerprint = schema_fingerprint(schema);
  EXPECT_EQ(fingerprint.size(), 16u);
  DatabaseSchema reordered = schema;
  std::swap(reordered.tables[0], reordered.tables[1]);
  reordered.tables[0].estimated_rows = 1e6;
  EXPECT_EQ(schema_fingerprint(reordered), fingerprint);
  DatabaseSchema retyped = schema;
  retyped.tables[1].columns[2].type = "bigint";
  EXPECT_NE(schema_fingerprint(retyped), fingerprint);
}

TEST(SchemaModel, CombinedTextNamesEveryTablesDatabase) {
  std::vector<DatabaseSchema> schemas = {schema_from_json("production", kShop), schema_from_json("backup", kShop)};
  std::string text = format_combined_schema(schemas, "revenue", 60);
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "database \"production\", table public.customers (about 120 rows)\n"
            "  id integer NOT NULL PK, country text NOT NULL /* ISO code */\n");
  EXPECT_NE(text.find("database \"backup\", table public.orders (about 600 rows) -- one purchase\n"
                      "  id integer NOT NULL PK, customer_id integer NOT NULL -> public.customers(id), total numeric(12,2)\n"),
            std::string::npos);
  EXPECT_EQ(text.find("more tables"), std::string::npos);
}

TEST(SchemaModel, LargeSchemasKeepTheRelevantTablesAndTheirNeighbours) {
  json tables = json::array();
  for (int i = 0; i < 2000; i++)
    tables.push_back({{"schema", "public"}, {"name", "filler_" + std::to_string(i)}, {"kind", "table"}, {"rows", 10},
                      {"columns", {{{"name", "id"}, {"type", "integer"}, {"nullable", false}}}}});
  tables.push_back({{"schema", "public"}, {"name", "customers"}, {"kind", "table"},
                    {"columns", {{{"name", "id"}, {"type", "integer"}}}}});
  tables.push_back({{"schema", "public"}, {"name", "invoices"}, {"kind", "table"},
                    {"columns", {{{"name", "customer_id"}, {"type", "integer"}}, {{"name", "amount"}, {"type", "numeric"}}}},
                    {"foreign_keys", {{{"columns", {"customer_id"}}, {"references", "public.customers"}, {"ref_columns", {"id"}}}}}});
  std::string document = json{{"tables", tables}}.dump();
  std::string text = format_combined_schema({schema_from_json("production", document)}, "total invoice amount per month", 60);
  EXPECT_NE(text.find("table public.invoices"), std::string::npos);
  EXPECT_NE(text.find("table public.customers"), std::string::npos) << "the foreign-key neighbour is kept";
  size_t shown = 0;
  for (size_t at = 0; (at = text.find("database \"production\"", at)) != std::string::npos; at++) shown++;
  EXPECT_EQ(shown, 60u);
  EXPECT_NE(text.find("-- 1,942 more tables not shown (production: 1,942); ask about them by name"), std::string::npos);
  EXPECT_LT(text.size(), 10000u);
}

TEST(LlmProtocol, OpenAiRequest) {
  LlmConfig config{"openai", "http://127.0.0.1:8080/v1/", "gpt-test", "sk-1", 1000, 512};
  HttpRequest request = build_llm_request(config, {{"system", "rules"}, {"user", "question"}});
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/v1/chat/completions");
  EXPECT_EQ(request.headers, (std::vector<std::string>{"Content-Type: application/json", "Authorization: Bearer sk-1"}));
  json body = json::parse(request.body);
  EXPECT_EQ(body["model"], "gpt-test");
  EXPECT_EQ(body["max_tokens"], 512);
  EXPECT_EQ(body["messages"][1]["content"], "question");
  config.api_key.clear();
  EXPECT_EQ(build_llm_request(config, {}).headers.size(), 1u) << "no key, no Authorization header";
}

TEST(LlmProtocol, AnthropicRequest) {
  LlmConfig config{"anthropic", "https://api.anthropic.com", "claude", "sk-ant", 1000, 100};
  HttpRequest request = build_llm_request(config, {{"system", "a"}, {"system", "b"}, {"user", "q"}});
  EXPECT_EQ(request.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(request.headers[1], "x-api-key: sk-ant");
  EXPECT_EQ(request.headers[2], "anthropic-version: 2023-06-01");
  json body = json::parse(request.body);
  EXPECT_EQ(body["system"], "a\n\nb");
  EXPECT_EQ(body["messages"].size(), 1u);
  config.url = "http://localhost/v1";
  EXPECT_EQ(build_llm_request(config, {}).url, "http://localhost/v1/messages");
  config.provider = "gemini";
  EXPECT_THROW(build_llm_request(config, {}), LlmError);
}

TEST(LlmProtocol, ReadsReplies) {
  LlmConfig openai{"openai", "u", "m", "sk-SECRET", 1, 1};
  LlmReply reply = parse_llm_reply(openai, 200,
      R"({"model": "gpt-x", "choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})");
  EXPECT_EQ(reply.text, "hi");
  EXPECT_EQ(reply.model, "gpt-x");
  EXPECT_EQ(reply.prompt_tokens, 7);
  EXPECT_EQ(reply.completion_tokens, 2);
  LlmConfig anthropic{"anthropic", "u", "m", "k", 1, 1};
  reply = parse_llm_reply(anthropic, 200,
      R"({"model": "c", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "usage": {"input_tokens": 3, "output_tokens": 4}})");
  EXPECT_EQ(reply.text, "ab");
  EXPECT_EQ(reply.completion_tokens, 4);
}

TEST(LlmProtocol, ErrorsNameProviderStatusAndBodyButNeverTheKey) {
  LlmConfig openai{"openai", "u", "m", "sk-SECRET", 1, 1};
  auto message = [&](long status, const std::string& body) {
    try {
      parse_llm_reply(openai, status, body);
    } catch (const LlmError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(500, R"({"error": {"message": "overloaded"}})"), "openai returned an error (HTTP 500): overloaded");
  EXPECT_EQ(message(502, "<html>bad gateway</html>"), "openai returned an error (HTTP 502): <html>bad gateway</html>");
  EXPECT_EQ(message(200, "not json"), "openai reply is not JSON (HTTP 200): not json");
  EXPECT_NE(message(200, R"({"choices": []})").find("not of the expected form"), std::string::npos);
  EXPECT_EQ(message(401, R"({"error": {"message": "bad key sk-SECRET"}})"), "openai returned an error (HTTP 401): bad key <key>");
  std::string long_body(500, 'x');
  EXPECT_EQ(message(500, long_body).size(), std::string("openai returned an error (HTTP 500): ").size() + 203);
}

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
  EXPECT_NE(plan_error(R"({"queries": [{"database": "backup", "sql": "SELECT 1"}], "combine": " ; "})").find("empty"),
            std::string::npos);
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
  EXPECT_EQ(plan_error("I think the answer is 42."),
            "the LLM's reply holds no plan (neither the JSON form nor DATABASE: blocks); attached: production, "
            "backup. The reply began: I think the answer is 42.");
  EXPECT_NE(plan_error(R"({"queries": [{"db": "backup"}]})").find("malformed"), std::string::npos);
}

TEST(PlanParser, JsonRoundTrip) {
  Plan plan{{{"production", "SELECT 1"}, {"backup", "SELECT 2"}}, "", "both"};
  Plan again = plan_from_json(plan_to_json(plan));
  EXPECT_EQ(again.queries[1].sql, "SELECT 2");
  EXPECT_EQ(again.combine, "");
  EXPECT_EQ(plan_to_json(plan).find("combine"), std::string::npos);
  plan.combine = "SELECT * FROM production EXCEPT SELECT * FROM backup";
  EXPECT_EQ(plan_from_json(plan_to_json(plan)).combine, plan.combine);
  EXPECT_EQ(again.explanation, "both");
  EXPECT_THROW(plan_from_json("[]"), PlanError);
}

TEST(Prompt, RulesSchemaHistoryThenTheQuestionVerbatim) {
  PromptInput input{{"production", "backup"}, "database \"production\", table public.orders\n", {{"q1", "a1"}}, "And 2024?"};
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
  PromptInput input{{"production"}, "", {}, "q"};
  auto messages = build_repair_prompt(input, "{previous}", {{{"production", "SELECT amount FROM t"}, "column \"amount\" does not exist"}});
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[3].role, "assistant");
  EXPECT_EQ(messages[3].content, "{previous}");
  EXPECT_NE(messages[4].content.find("SELECT amount FROM t"), std::string::npos);
  EXPECT_NE(messages[4].content.find("column \"amount\" does not exist"), std::string::npos);
}

TEST(Prompt, RulesNameTheCombineTables) {
  std::vector<ChatMessage> messages = build_plan_prompt(PromptInput{{"tenant_01", "tenant_02"}, "", {}, "q"});
  EXPECT_NE(messages[0].content.find("\"combine\""), std::string::npos);
  EXPECT_NE(messages[0].content.find("a table named exactly like that database"), std::string::npos);
}

TEST(Prompt, CombineRepairCarriesTheSqlErrorAndTables) {
  auto messages = build_combine_repair_prompt(PromptInput{{"production", "backup"}, "", {}, "q"}, "{previous}",
                                              "SELECT total FROM production", "column \"total\" does not exist",
                                              "production (id integer, amount numeric), backup (id integer)");
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[3].content, "{previous}");
  EXPECT_NE(messages[4].content.find("SELECT total FROM production"), std::string::npos);
  EXPECT_NE(messages[4].content.find("column \"total\" does not exist"), std::string::npos);
  EXPECT_NE(messages[4].content.find("production (id integer, amount numeric)"), std::string::npos);
  EXPECT_NE(messages[4].content.find("whole corrected plan"), std::string::npos);
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
