// The size of the plan prompt's system messages (the rules and the schema) for fleets of tenant databases of one
// schema (test/unit/tenant_fleet.hpp: four tables, sampled values differing per tenant), attached as @tenants:
// 1, 10, 100 and 1,000 identical tenants, and 1,000 of which 60 are in three variants. Prints a Markdown table;
// bench/run.sh builds it against the core objects (make bench/prompt_size) and runs it.
#include "tenant_fleet.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace multidb;

int main() {
  struct Row {
    const char* label;
    int tenants;
    bool variants;
  };
  const Row rows[] = {{"1 tenant", 1, false},
                      {"10 identical tenants", 10, false},
                      {"100 identical tenants", 100, false},
                      {"1,000 identical tenants", 1000, false},
                      {"1,000 tenants, 3 variants (30 + 20 + 10)", 1000, true}};
  size_t one = fleet::plan_prompt_bytes(fleet::tenants(1));
  std::printf("| tenants | prompt bytes | vs one tenant | compact names bytes | bound (1.2 x one + names) | ms to build |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    std::vector<DatabaseSchema> schemas = fleet::tenants(row.tenants, row.variants);
    std::vector<std::string> names;
    for (const DatabaseSchema& s : schemas) names.push_back(s.database);
    size_t names_bytes = compact_database_names(names, fleet::group_of(schemas)).text.size();
    auto start = std::chrono::steady_clock::now();
    size_t bytes = fleet::plan_prompt_bytes(schemas);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("| %s | %zu | %.2f | %zu | %.0f | %.1f |\n", row.label, bytes, static_cast<double>(bytes) / one,
                names_bytes, one * 1.2 + names_bytes, ms);
  }
  return 0;
}
