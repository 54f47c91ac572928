// libFuzzer: a query spec's JSON (what a UI or a user sends to build_sql, build and save_report_spec), read,
// written back canonically and read again, then compiled against a small fixed schema of two databases. A spec
// that is wrong may only be a SpecError or a SpecSchemaError: any other exception escapes and is a crash, as is a
// canonical form that does not read back to itself.
#include "core/query_compiler.hpp"
#include "core/query_spec.hpp"
#include "core/spec_catalog.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

multidb::DatabaseSchema shop(const std::string& name, const char* total_type) {
  multidb::TableInfo orders;
  orders.schema = "public";
  orders.name = "orders";
  const char* columns[][2] = {{"id", "integer"},      {"status", "text"},        {"total", total_type},
                              {"created_at", "timestamp with time zone"},        {"day", "date"},
                              {"at", "time without time zone"},                  {"paid", "boolean"},
                              {"ref", "uuid"},        {"payload", "jsonb"},      {"tags", "text[]"},
                              {"mood", "order_mood"}, {"Odd \"name\"", "text"}};
  for (const auto& c : columns) orders.columns.push_back({c[0], c[1], true, "", {}});
  multidb::TableInfo leads;
  leads.schema = "sales";
  leads.name = "leads";
  leads.columns.push_back({"id", "integer", true, "", {}});
  return {name, {orders, leads}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  multidb::QuerySpec spec;
  try {
    spec = multidb::parse_query_spec(text);
  } catch (const multidb::SpecError&) {
    return 0;
  }
  std::string canonical = multidb::query_spec_to_json(spec);
  if (multidb::query_spec_to_json(multidb::parse_query_spec(canonical)) != canonical) std::abort();
  // Compare mode runs on its own two databases; the others on production and backup, whose "total" differs.
  std::vector<multidb::DatabaseSchema> databases;
  if (spec.mode == multidb::SpecMode::kCompare)
    databases = {shop(spec.compare_b, "numeric(12,2)"), shop(spec.compare_a, "numeric(12,2)")};
  else
    databases = {shop("production", "numeric(12,2)"), shop("backup", "text")};
  for (size_t n = databases.size(); n >= 1; n--) {
    std::vector<multidb::DatabaseSchema> some(databases.begin(), databases.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      multidb::CompiledSpec compiled = multidb::compile_query_spec(spec, some);
      multidb::compiled_plan_json(compiled);
      if (compiled.queries.empty() || compiled.description.size() > 203) std::abort();
    } catch (const multidb::SpecError&) {
    } catch (const multidb::SpecSchemaError&) {
    }
  }
  multidb::spec_catalog_json(databases);
  return 0;
}
