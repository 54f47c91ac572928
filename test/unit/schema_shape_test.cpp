// core/schema_shape: the shape fingerprint, databases grouped by shape, and what a variant differs in.
#include "core/schema_shape.hpp"

#include "shop_schema.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace multidb;

namespace {

DatabaseSchema shop(const std::string& database) { return schema_from_json(database, kShop); }

ColumnInfo* column(DatabaseSchema& schema, const std::string& table, const std::string& name) {
  for (TableInfo& t : schema.tables)
    if (t.name == table)
      for (ColumnInfo& c : t.columns)
        if (c.name == name) return &c;
  return nullptr;
}

TableInfo* table(DatabaseSchema& schema, const std::string& name) {
  for (TableInfo& t : schema.tables)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

TEST(SchemaShape, FingerprintIgnoresRowEstimatesSampledValuesAndTableOrder) {
  DatabaseSchema a = shop("t0001");
  DatabaseSchema b = shop("t0002");
  table(b, "orders")->estimated_rows = 123456;
  column(b, "customers", "country")->common_values = {"DE", "FR"};
  std::swap(b.tables[0], b.tables[1]);
  std::string fingerprint = schema_shape_fingerprint(a);
  EXPECT_EQ(fingerprint.size(), 16u);
  EXPECT_EQ(schema_shape_fingerprint(b), fingerprint);
  // The older fingerprint sees the sampled values: it cannot tell that two tenants share a schema.
  EXPECT_NE(schema_fingerprint(b), schema_fingerprint(a));
}

TEST(SchemaShape, FingerprintSeesTablesColumnsTypesAndKeys) {
  DatabaseSchema base = shop("t1");
  std::string fingerprint = schema_shape_fingerprint(base);
  auto differs = [&](void (*change)(DatabaseSchema&)) {
    DatabaseSchema changed = base;
    change(changed);
    return schema_shape_fingerprint(changed) != fingerprint;
  };
  EXPECT_TRUE(differs([](DatabaseSchema& s) { column(s, "orders", "total")->type = "numeric"; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { column(s, "orders", "total")->nullable = false; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { column(s, "orders", "total")->name = "amount"; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { table(s, "orders")->columns.pop_back(); }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { std::swap(table(s, "orders")->columns[1], table(s, "orders")->columns[2]); }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { table(s, "orders")->primary_key = {"id", "customer_id"}; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { table(s, "orders")->foreign_keys.clear(); }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { table(s, "orders")->kind = "partitioned table"; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { table(s, "orders")->schema = "sales"; }));
  EXPECT_TRUE(differs([](DatabaseSchema& s) { s.tables.pop_back(); }));
  EXPECT_FALSE(differs([](DatabaseSchema& s) { s.database = "another"; }));
}

TEST(SchemaShape, GroupsLargestFirstAndKeepsTheInputOrderWithin) {
  std::vector<DatabaseSchema> schemas;
  for (int i = 1; i <= 6; i++) schemas.push_back(shop("t" + std::to_string(i)));
  column(schemas[1], "orders", "total")->type = "numeric(14,2)";  // t2: retyped
  column(schemas[4], "orders", "total")->type = "numeric(14,2)";  // t5: same variant
  table(schemas[5], "customers")->columns.push_back({"email", "text", true, "", {}});  // t6: added column
  column(schemas[3], "customers", "country")->common_values = {"DE"};  // t4: only sampled values: same shape
  schemas[2].tables[0].estimated_rows = 1;                               // t3: only an estimate: same shape

  ShapeGroups groups = group_by_shape(schemas);
  ASSERT_EQ(groups.variants.size(), 3u);
  EXPECT_EQ(groups.variants[0].databases, (std::vector<std::string>{"t1", "t3", "t4"}));
  EXPECT_EQ(groups.variants[0].representative, 0u);
  EXPECT_TRUE(groups.variants[0].differences.empty());
  EXPECT_EQ(groups.variants[0].fingerprint, schema_shape_fingerprint(schemas[0]));

  EXPECT_EQ(groups.variants[1].databases, (std::vector<std::string>{"t2", "t5"}));
  EXPECT_EQ(groups.variants[1].representative, 1u);
  EXPECT_EQ(groups.variants[1].differences,
            (std::vector<ShapeDifference>{{"column retyped", "public.orders", "total", "numeric(12,2)", "numeric(14,2)"}}));

  EXPECT_EQ(groups.variants[2].databases, (std::vector<std::string>{"t6"}));
  EXPECT_EQ(groups.variants[2].differences,
            (std::vector<ShapeDifference>{{"column added", "public.customers", "email", "", "text"}}));
}

TEST(SchemaShape, EqualSizesKeepTheOrderOfTheirFirstDatabase) {
  std::vector<DatabaseSchema> schemas = {shop("b"), shop("a")};
  schemas[0].tables.pop_back();
  ShapeGroups groups = group_by_shape(schemas);
  ASSERT_EQ(groups.variants.size(), 2u);
  EXPECT_EQ(groups.variants[0].databases, (std::vector<std::string>{"b"}));
  EXPECT_EQ(groups.variants[1].differences,
            (std::vector<ShapeDifference>{{"table added", "public.orders", "", "", "table, 3 columns"}}));
  std::reverse(schemas.begin(), schemas.end());
  EXPECT_EQ(group_by_shape(schemas).variants[0].databases, (std::vector<std::string>{"a"}));
}

TEST(SchemaShape, TablesMissingAndChangedAndColumnsMissingAndChanged) {
  DatabaseSchema base = shop("base");
  DatabaseSchema variant = shop("variant");
  variant.tables.erase(variant.tables.begin());  // customers missing
  TableInfo& orders = *table(variant, "orders");
  orders.primary_key = {"id", "customer_id"};
  orders.columns.erase(orders.columns.begin() + 1);  // customer_id missing
  orders.columns[0].nullable = true;
  orders.columns.push_back({"note", "text", true, "", {}});
  TableInfo refunds;
  refunds.schema = "public";
  refunds.name = "refunds";
  refunds.kind = "view";
  refunds.columns.push_back({"id", "integer", true, "", {}});
  variant.tables.push_back(refunds);

  EXPECT_EQ(shape_differences(base, variant),
            (std::vector<ShapeDifference>{
                {"table missing", "public.customers", "", "table, 2 columns", ""},
                {"table changed", "public.orders", "", "primary key (id)", "primary key (id, customer_id)"},
                {"column changed", "public.orders", "id", "NOT NULL", "nullable"},
                {"column missing", "public.orders", "customer_id", "integer", ""},
                {"column added", "public.orders", "note", "", "text"},
                {"table added", "public.refunds", "", "", "view, 1 column"},
            }));

  DatabaseSchema reordered = shop("reordered");
  std::swap(table(reordered, "orders")->columns[0], table(reordered, "orders")->columns[2]);
  EXPECT_EQ(shape_differences(base, reordered),
            (std::vector<ShapeDifference>{{"table changed", "public.orders", "",
                                           "column order id, customer_id, total", "column order total, customer_id, id"}}));
}

TEST(SchemaShape, AThousandTenantsAndThreeVariantsAreFourGroups) {
  std::vector<DatabaseSchema> schemas;
  for (int i = 0; i < 1000; i++) {
    schemas.push_back(shop("t" + std::to_string(i)));
    table(schemas.back(), "orders")->estimated_rows = i;  // every tenant's estimates differ
  }
  table(schemas[10], "orders")->columns.pop_back();
  table(schemas[20], "orders")->columns.pop_back();
  column(schemas[30], "orders", "id")->type = "bigint";
  schemas[40].tables.pop_back();
  ShapeGroups groups = group_by_shape(schemas);
  ASSERT_EQ(groups.variants.size(), 4u);
  EXPECT_EQ(groups.variants[0].databases.size(), 996u);
  EXPECT_EQ(groups.variants[1].databases, (std::vector<std::string>{"t10", "t20"}));
  EXPECT_EQ(groups.variants[2].databases, (std::vector<std::string>{"t30"}));
  EXPECT_EQ(groups.variants[3].databases, (std::vector<std::string>{"t40"}));
}

TEST(SchemaShape, DifferencesAreBoundedAndDuplicatesGroupedOnce) {
  DatabaseSchema wide = shop("wide");
  for (int i = 0; i < 120; i++) table(wide, "orders")->columns.push_back({"c" + std::to_string(i), "int", true, "", {}});
  std::vector<DatabaseSchema> schemas = {shop("a"), shop("b"), wide, shop("a")};
  ShapeGroups groups = group_by_shape(schemas);
  ASSERT_EQ(groups.variants.size(), 2u);
  EXPECT_EQ(groups.variants[0].databases, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(groups.variants[1].differences.size(), kMaxShapeDifferences);
  EXPECT_EQ(groups.variants[1].more_differences, 120u - kMaxShapeDifferences);
  EXPECT_TRUE(group_by_shape({}).variants.empty());
}
