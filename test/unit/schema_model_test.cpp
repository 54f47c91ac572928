// core/schema_model: the introspection document, fingerprints, and the schema text of a prompt.
#include "core/schema_model.hpp"
#include "core/schema_text.hpp"

#include "shop_schema.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace multidb;
using nlohmann::json;

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
  DatabaseSchema production = schema_from_json("production", kShop);
  DatabaseSchema analytics = schema_from_json("analytics", kShop);
  for (TableInfo& table : analytics.tables) table.name = "daily_" + table.name;  // no table in common
  std::string text = format_combined_schema({production, analytics}, "revenue", 60);
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "database \"production\", table public.customers (about 120 rows)\n"
            "  id integer NOT NULL PK, country text NOT NULL /* ISO code */\n");
  EXPECT_NE(text.find("database \"analytics\", table public.daily_orders (about 600 rows) -- one purchase\n"
                      "  id integer NOT NULL PK, customer_id integer NOT NULL -> public.customers(id), total numeric(12,2)\n"),
            std::string::npos);
  EXPECT_EQ(text.find("more tables"), std::string::npos);
  // Two databases of one schema: described once (core/schema_text).
  text = format_combined_schema({production, schema_from_json("backup", kShop)}, "revenue", 60);
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "databases backup, production (2) share this schema:\n"
            "table public.customers (about 120 rows each)\n");
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

TEST(SchemaModel, CommonValuesOfShortTextColumnsSortedQuotedAndBounded) {
  DatabaseSchema schema = schema_from_json("shop", R"({"tables": [{"schema": "public", "name": "orders", "columns": [
      {"name": "status", "type": "text", "nullable": false, "values": ["paid", "delivered", "it's"]},
      {"name": "country", "type": "text", "values": ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M"]},
      {"name": "note", "type": "text", "values": ["a value far longer than forty bytes, which no prompt needs"]},
      {"name": "code", "type": "text", "values": null}]}]})");
  const std::vector<ColumnInfo>& columns = schema.tables[0].columns;
  EXPECT_EQ(columns[0].common_values, (std::vector<std::string>{"delivered", "it's", "paid"}));
  EXPECT_TRUE(columns[1].common_values.empty()) << "more than kMaxCommonValues: none";
  EXPECT_TRUE(columns[2].common_values.empty()) << "a value too long: none";
  std::string text = format_combined_schema({schema}, "", 60);
  EXPECT_NE(text.find("status text NOT NULL (values: 'delivered', 'it''s', 'paid')"), std::string::npos) << text;
  EXPECT_EQ(text.find("values: 'A'"), std::string::npos);
  // The order pg_stats gives changes with every ANALYZE; the fingerprint does not.
  DatabaseSchema reordered = schema_from_json("shop", R"({"tables": [{"schema": "public", "name": "orders", "columns": [
      {"name": "status", "type": "text", "nullable": false, "values": ["it's", "paid", "delivered"]},
      {"name": "country", "type": "text"}, {"name": "note", "type": "text"}, {"name": "code", "type": "text"}]}]})");
  EXPECT_EQ(schema_fingerprint(schema), schema_fingerprint(reordered));
}
