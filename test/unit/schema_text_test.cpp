// core/schema_text: the prompt's schema text of a fleet: one schema written once for the databases that share it,
// variants as differences, sampled values merged, max_prompt_tables counted per shape; and its size.
#include "core/schema_text.hpp"

#include "shop_schema.hpp"
#include "tenant_fleet.hpp"

#include <gtest/gtest.h>

using namespace multidb;

namespace {

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) count++;
  return count;
}

}  // namespace

TEST(SchemaText, DatabasesOfOneSchemaAreDescribedOnceUnderTheirCompactNames) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(1000);
  std::string text = format_combined_schema(schemas, "", 60, {fleet::group_of(schemas)});
  EXPECT_EQ(text.substr(0, text.find('\n') + 1),
            "databases t0001 \xE2\x80\xA6 t1000 (1,000; group @tenants) share this schema:\n");
  EXPECT_EQ(occurrences(text, "table public.orders"), 1u) << text;
  EXPECT_EQ(occurrences(text, "t0500"), 0u) << "no member is written out";
  EXPECT_NE(text.find("table public.orders (about 600 to 10200 rows each) -- one purchase\n"
                      "  id integer NOT NULL PK, customer_id integer NOT NULL -> public.customers(id), "
                      "status text NOT NULL (values: 'cancelled', 'paid', 'refunded', 'returned', 'shipped'), "),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("more tables"), std::string::npos);
}

TEST(SchemaText, TheGroupIsNamedOnlyWhenTheDatabasesAreExactlyItsMembers) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(5);
  DatabaseGroup bigger = fleet::group_of(fleet::tenants(6));
  std::string text = format_combined_schema(schemas, "", 60, {bigger});
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "databases t0001 \xE2\x80\xA6 t0005 (5) share this schema:\n");
  text = format_combined_schema(schemas, "", 60, {bigger, fleet::group_of(schemas)});
  EXPECT_EQ(text.substr(0, text.find('\n') + 1),
            "databases t0001 \xE2\x80\xA6 t0005 (5; group @tenants) share this schema:\n");
}

TEST(SchemaText, OneDatabaseOfItsOwnShapeKeepsTheFormOfOneDatabase) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(3);
  schemas.push_back(schema_from_json("production", kShop));
  std::string text = format_combined_schema(schemas, "", 60);
  EXPECT_NE(text.find("databases t0001 \xE2\x80\xA6 t0003 (3) share this schema:\n"), std::string::npos);
  EXPECT_NE(text.find("database \"production\", table public.orders (about 600 rows) -- one purchase\n"),
            std::string::npos)
      << text;
}

TEST(SchemaText, VariantsAreTheSharedSchemaPlusTheirDifferences) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(1000, true);
  std::string text = format_combined_schema(schemas, "", 60, {fleet::group_of(schemas)});
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "databases t0001 \xE2\x80\xA6 t0940 (940) share this schema:\n");
  EXPECT_NE(text.find("databases t0941 \xE2\x80\xA6 t0970 (30) have the schema of t0001 \xE2\x80\xA6 t0940 (940) "
                      "with these differences:\n"
                      "  - public.orders: column discount numeric(12,2) added\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("databases t0971 \xE2\x80\xA6 t0990 (20) have the schema of t0001 \xE2\x80\xA6 t0940 (940) "
                      "with these differences:\n"
                      "  - public.order_items: column quantity bigint, not integer\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  - public.refunds added (table, 3 columns):\n"
                      "      id integer NOT NULL PK, order_id integer NOT NULL -> public.orders(id), "
                      "amount numeric(12,2) NOT NULL\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(occurrences(text, "table public.orders"), 1u);
}

TEST(SchemaText, AShapeThatSharesLittleWithTheLargestIsWrittenInFull) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(3);
  DatabaseSchema shop = schema_from_json("production", kShop);
  DatabaseSchema backup = shop;
  backup.database = "backup";
  schemas.push_back(shop);
  schemas.push_back(backup);
  std::string text = format_combined_schema(schemas, "", 60);
  EXPECT_EQ(text.find("differences"), std::string::npos) << text;
  EXPECT_NE(text.find("databases backup, production (2) share this schema:\ntable public.customers"),
            std::string::npos)
      << text;
}

TEST(SchemaText, SampledValuesAreMergedAndDroppedWhenTooMany) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(20);
  std::string text = format_combined_schema(schemas, "", 60);
  // Ten countries in all: shown, sorted; forty categories: more than kMaxCommonValues, none shown.
  EXPECT_NE(text.find("country text NOT NULL /* ISO code */ (values: 'AT', 'BE', 'DE', 'DK', 'ES', 'FR', 'IT', "
                      "'NL', 'PL', 'SE')"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("category text, price"), std::string::npos) << text;
  // The same members in another order: the same text.
  std::vector<DatabaseSchema> reversed(schemas.rbegin(), schemas.rend());
  EXPECT_EQ(format_combined_schema(reversed, "", 60), text);
}

TEST(SchemaText, MaxTablesCountsEachShapesTablesOnce) {
  std::vector<DatabaseSchema> schemas = fleet::tenants(1000, true);
  // 4 tables of the largest shape + the three variants' differences (one table each) = 7 units.
  std::string all = format_combined_schema(schemas, "", 7);
  EXPECT_EQ(all.find("more tables"), std::string::npos) << all;
  std::string cut = format_combined_schema(schemas, "paid orders per customer", 6);
  EXPECT_EQ(occurrences(cut, "table public.orders"), 1u) << cut;
  EXPECT_NE(cut.find("public.orders: column discount"), std::string::npos) << "a variant's difference on orders\n"
                                                                           << cut;
  EXPECT_NE(cut.find("public.order_items: column quantity"), std::string::npos) << cut;
  EXPECT_NE(cut.find("table public.customers"), std::string::npos) << "the foreign-key neighbour\n" << cut;
  EXPECT_NE(cut.find("-- 1 more tables not shown (t0991 \xE2\x80\xA6 t1000: 1); ask about them by name\n"),
            std::string::npos)
      << cut;
  std::string small = format_combined_schema(schemas, "paid orders per customer", 2);
  EXPECT_NE(small.find("-- 5 more tables not shown (t0001 \xE2\x80\xA6 t0940: 2, t0941 \xE2\x80\xA6 t0970: 1, "
                       "t0971 \xE2\x80\xA6 t0990: 1, t0991 \xE2\x80\xA6 t1000: 1); ask about them by name\n"),
            std::string::npos)
      << small;
}

// Issue 21's figure: 1,000 identical tenants cost at most 1.2 x one tenant's prompt plus the compact name list.
// (Before the grouped rendering, 1,000 tenants took ~2.9 MB of prompt, one per database.)
TEST(SchemaText, AThousandTenantsCostAboutOne) {
  std::vector<DatabaseSchema> fleet = fleet::tenants(1000);
  std::vector<std::string> names;
  for (const DatabaseSchema& s : fleet) names.push_back(s.database);
  size_t names_bytes = compact_database_names(names, fleet::group_of(fleet)).text.size();
  size_t one = fleet::plan_prompt_bytes(fleet::tenants(1));
  size_t thousand = fleet::plan_prompt_bytes(fleet);
  EXPECT_LE(thousand, one * 1.2 + names_bytes) << "one: " << one << ", 1,000: " << thousand;
  EXPECT_LE(fleet::plan_prompt_bytes(fleet::tenants(1000, true)), one * 2) << "three variants";
}
