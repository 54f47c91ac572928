// A fleet of tenant databases of one schema, as their introspection documents give it: four tables (customers,
// products, orders, order_items) with keys, row estimates and sampled values that differ from tenant to tenant,
// and optional variants (a migration that reached only some). For the prompt's unit tests and bench/prompt_size.
#pragma once

#include "core/database_names.hpp"
#include "core/prompt.hpp"
#include "core/schema_model.hpp"
#include "core/schema_text.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace multidb {
namespace fleet {

inline std::string tenant_name(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "t%04d", i);
  return name;
}

// variant 0: the base; 1: orders has a discount column; 2: order_items.quantity is bigint; 3: a refunds table.
inline DatabaseSchema tenant_schema(int i, int variant = 0) {
  static const char* const kCountries[] = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "DK"};
  static const char* const kLastStatus[] = {"refunded", "cancelled", "returned"};
  DatabaseSchema schema;
  schema.database = tenant_name(i);
  double scale = 1 + i % 17;

  TableInfo customers{"public", "customers", "table", "the shop's customers", 100 * scale, {}, {"id"}, {}};
  customers.columns = {{"id", "integer", false, "", {}},
                       {"name", "text", false, "", {}},
                       {"country", "text", false, "ISO code",
                        {kCountries[i % 10], kCountries[(i + 3) % 10], kCountries[(i + 7) % 10]}},
                       {"created_at", "timestamp with time zone", false, "", {}}};
  TableInfo products{"public", "products", "table", "", 40 * scale, {}, {"id"}, {}};
  products.columns = {{"id", "integer", false, "", {}},
                      {"title", "text", false, "", {}},
                      {"category", "text", true, "", {"cat-" + std::to_string(i) + "-a", "cat-" + std::to_string(i) + "-b"}},
                      {"price", "numeric(10,2)", false, "", {}}};
  TableInfo orders{"public", "orders", "table", "one purchase", 600 * scale, {}, {"id"},
                   {{{"customer_id"}, "public.customers", {"id"}}}};
  orders.columns = {{"id", "integer", false, "", {}},
                    {"customer_id", "integer", false, "", {}},
                    {"status", "text", false, "", {"paid", "shipped", kLastStatus[i % 3]}},
                    {"total", "numeric(12,2)", true, "", {}},
                    {"ordered_at", "timestamp with time zone", false, "", {}}};
  if (variant == 1) orders.columns.push_back({"discount", "numeric(12,2)", true, "", {}});
  TableInfo items{"public", "order_items", "table", "", 1500 * scale, {}, {"order_id", "product_id"},
                  {{{"order_id"}, "public.orders", {"id"}}, {{"product_id"}, "public.products", {"id"}}}};
  items.columns = {{"order_id", "integer", false, "", {}},
                   {"product_id", "integer", false, "", {}},
                   {"quantity", variant == 2 ? "bigint" : "integer", false, "", {}}};
  schema.tables = {customers, products, orders, items};
  if (variant == 3) {
    TableInfo refunds{"public", "refunds", "table", "", 20 * scale, {}, {"id"},
                      {{{"order_id"}, "public.orders", {"id"}}}};
    refunds.columns = {{"id", "integer", false, "", {}},
                       {"order_id", "integer", false, "", {}},
                       {"amount", "numeric(12,2)", false, "", {}}};
    schema.tables.push_back(refunds);
  }
  return schema;
}

// count tenants t0001 …; with variants, the last 60 are variants: 30 of variant 1, 20 of 2 and 10 of 3.
inline std::vector<DatabaseSchema> tenants(int count, bool variants = false) {
  std::vector<DatabaseSchema> schemas;
  for (int i = 1; i <= count; i++) {
    int variant = 0;
    if (variants && i > count - 60) variant = 1;
    if (variants && i > count - 30) variant = 2;
    if (variants && i > count - 10) variant = 3;
    schemas.push_back(tenant_schema(i, variant));
  }
  return schemas;
}

inline DatabaseGroup group_of(const std::vector<DatabaseSchema>& schemas) {
  DatabaseGroup group{"tenants", {}};
  for (const DatabaseSchema& s : schemas) group.members.push_back(s.database);
  return group;
}

// The plan prompt's system messages (the rules and the schema), in bytes, the tenants attached as @tenants, with
// multidb.max_prompt_tables at its default (60).
inline size_t plan_prompt_bytes(const std::vector<DatabaseSchema>& schemas, size_t max_tables = 60,
                                const std::string& question = "Which tenant has the most paid orders?") {
  DatabaseGroup group = group_of(schemas);
  PromptInput input;
  input.databases = group.members;
  input.groups = {group};
  input.question = question;
  input.combined_schema = format_combined_schema(schemas, question, max_tables, input.groups);
  size_t bytes = 0;
  for (const ChatMessage& message : build_plan_prompt(input))
    if (message.role == "system") bytes += message.content.size();
  return bytes;
}

}  // namespace fleet
}  // namespace multidb
