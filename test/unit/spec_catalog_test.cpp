// core/spec_catalog: the query builder's catalog of several databases — which tables and columns each has, and
// where the columns' types differ in family.
#include "core/spec_catalog.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace multidb;
using nlohmann::json;

namespace {

TableInfo table(const std::string& schema, const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& columns) {
  TableInfo t;
  t.schema = schema;
  t.name = name;
  for (const auto& [column, type] : columns) t.columns.push_back({column, type, true, "", {}});
  return t;
}

}  // namespace

TEST(SpecCatalog, TablesColumnsAndWhereTheyDiffer) {
  DatabaseSchema production{"production",
                            {table("public", "orders", {{"id", "integer"}, {"total", "numeric(12,2)"}, {"note", "text"}}),
                             table("public", "audit", {{"at", "timestamp with time zone"}}),
                             table("billing", "invoices", {{"id", "uuid"}})}};
  DatabaseSchema backup{"backup",
                        {table("public", "orders", {{"id", "bigint"}, {"total", "text"}, {"extra", "jsonb"}}),
                         table("billing", "invoices", {{"id", "uuid"}})}};
  json catalog = json::parse(spec_catalog_json({production, backup}));
  EXPECT_EQ(catalog["databases"], json({"production", "backup"}));
  ASSERT_EQ(catalog["tables"].size(), 3u);
  // Sorted by schema, then name.
  EXPECT_EQ(catalog["tables"][0]["schema"], "billing");
  EXPECT_EQ(catalog["tables"][1]["name"], "audit");
  EXPECT_EQ(catalog["tables"][2]["name"], "orders");
  const json& audit = catalog["tables"][1];
  EXPECT_EQ(audit["present_in"], json({"production"}));
  EXPECT_EQ(audit["missing_from"], json({"backup"}));
  EXPECT_EQ(audit["columns"][0]["missing_from"], json::array());  // missing only where the table is
  EXPECT_EQ(audit["columns"][0]["family"], "datetime");
  const json& orders = catalog["tables"][2];
  EXPECT_EQ(orders["missing_from"], json::array());
  ASSERT_EQ(orders["columns"].size(), 4u);
  // The first database's order, then what it lacks.
  EXPECT_EQ(orders["columns"][0]["name"], "id");
  EXPECT_EQ(orders["columns"][3]["name"], "extra");
  EXPECT_EQ(orders["columns"][0],
            json({{"name", "id"}, {"types", {{"production", "integer"}, {"backup", "bigint"}}}, {"family", "numeric"},
                  {"present_in", {"production", "backup"}}, {"missing_from", json::array()}, {"type_differs", false}}));
  EXPECT_EQ(orders["columns"][1]["family"], "mixed");
  EXPECT_EQ(orders["columns"][1]["type_differs"], true);
  EXPECT_EQ(orders["columns"][1]["types"], json({{"production", "numeric(12,2)"}, {"backup", "text"}}));
  EXPECT_EQ(orders["columns"][2]["missing_from"], json({"backup"}));
  EXPECT_EQ(orders["columns"][3]["present_in"], json({"backup"}));
  EXPECT_EQ(orders["columns"][3]["missing_from"], json({"production"}));
  EXPECT_EQ(orders["columns"][3]["family"], "unordered");
  // The types keep the databases' order in the text (what a UI shows: "integer on production, bigint on backup").
  std::string text = spec_catalog_json({production, backup});
  EXPECT_NE(text.find(R"("types":{"production":"integer","backup":"bigint"})"), std::string::npos);
}

TEST(SpecCatalog, NoDatabasesAndNoTables) {
  EXPECT_EQ(spec_catalog_json({}), R"({"databases":[],"tables":[]})");
  EXPECT_EQ(spec_catalog_json({{"empty", {}}}), R"({"databases":["empty"],"tables":[]})");
}

TEST(SpecCatalog, AThousandDatabases) {
  std::vector<DatabaseSchema> dbs;
  for (int i = 0; i < 1000; i++)
    dbs.push_back({"tenant_" + std::to_string(i), {table("public", "orders", {{"id", "integer"}})}});
  dbs[500].tables[0].columns[0].type = "text";
  json catalog = json::parse(spec_catalog_json(dbs));
  EXPECT_EQ(catalog["tables"][0]["present_in"].size(), 1000u);
  EXPECT_EQ(catalog["tables"][0]["columns"][0]["family"], "mixed");
  EXPECT_EQ(catalog["tables"][0]["columns"][0]["types"]["tenant_500"], "text");
}
