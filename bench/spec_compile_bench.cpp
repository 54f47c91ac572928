// The query builder's compiler, timed (bench/builder.sh runs it): three representative specs — fanout, totals
// with three summaries and a five-condition filter, compare — each read and compiled against 2 and 1,000
// databases' schemas. Prints, per spec and fleet size, the median over 7 batches of the microseconds one read and
// compile takes. A program of the pure core alone, like the unit tests: no server.
//   bench/spec_compile_bench [DATABASES ...]     default: 2 1000
#include "core/query_compiler.hpp"
#include "core/query_spec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace multidb;

namespace {

// A shop's schema as the schema cache holds it: the orders table among a few others.
DatabaseSchema shop(const std::string& name) {
  DatabaseSchema db;
  db.database = name;
  for (const char* other : {"customers", "products", "invoices", "shipments"}) {
    TableInfo t;
    t.schema = "public";
    t.name = other;
    for (const char* c : {"id", "name", "created_at", "note"}) t.columns.push_back({c, "text", true, "", {}});
    db.tables.push_back(t);
  }
  TableInfo orders;
  orders.schema = "public";
  orders.name = "orders";
  const char* columns[][2] = {{"id", "integer"},         {"customer_id", "integer"},
                              {"status", "text"},        {"total", "numeric(12,2)"},
                              {"created_at", "timestamp with time zone"}, {"paid", "boolean"},
                              {"region", "character varying(20)"},        {"note", "text"}};
  for (const auto& c : columns) orders.columns.push_back({c[0], c[1], true, "", {}});
  db.tables.push_back(orders);
  return db;
}

struct Case {
  const char* name;
  std::string spec;
};

std::vector<Case> cases(const std::vector<DatabaseSchema>& dbs) {
  std::string connections = "[";
  for (size_t i = 0; i < dbs.size(); i++) connections += (i ? ", \"" : "\"") + dbs[i].database + "\"";
  connections += "]";
  return {
      {"fanout", R"({"connections": )" + connections + R"(, "table": "orders", "columns": ["id", "status", "total"],
                    "filter": {"column": "status", "op": "=", "value": "paid"},
                    "sort": [{"column": "total", "dir": "desc"}], "limit": 100})"},
      {"totals", R"({"connections": )" + connections + R"(, "table": "orders", "mode": "totals",
                    "filter": {"and": [{"column": "status", "op": "in", "value": ["paid", "sent"]},
                                       {"column": "total", "op": ">", "value": 10},
                                       {"column": "created_at", "op": "last", "value": {"amount": 90, "unit": "day"}},
                                       {"column": "paid", "op": "=", "value": true},
                                       {"column": "region", "op": "ilike", "value": "eu%"}]},
                    "group_by": ["region", {"column": "created_at", "by": "month"}],
                    "summaries": [{"fn": "count"}, {"fn": "sum", "column": "total", "as": "revenue"},
                                  {"fn": "avg", "column": "total"}],
                    "sort": [{"column": "revenue", "dir": "desc"}], "limit": 50})"},
      {"compare", R"({"table": "orders", "columns": ["id", "status", "total"], "mode": "compare",
                     "compare": {"a": ")" + dbs[0].database + R"(", "b": ")" + dbs[1].database + R"(", "key": ["id"]}})"},
  };
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> fleets;
  for (int i = 1; i < argc; i++) fleets.push_back(std::atoi(argv[i]));
  if (fleets.empty()) fleets = {2, 1000};
  constexpr int kBatches = 7;
  std::printf("# spec             databases   median_us_per_compile   (read + compile, median of %d batches)\n", kBatches);
  size_t sink = 0;
  for (int fleet : fleets) {
    if (fleet < 2) {
      std::fprintf(stderr, "spec_compile_bench: a fleet needs at least 2 databases, not %d\n", fleet);
      return 2;
    }
    std::vector<DatabaseSchema> all;
    for (int i = 0; i < fleet; i++) all.push_back(shop("tenant_" + std::to_string(i)));
    std::vector<DatabaseSchema> pair(all.begin(), all.begin() + 2);
    for (const Case& c : cases(all)) {
      const std::vector<DatabaseSchema>& dbs = std::string(c.name) == "compare" ? pair : all;
      // Enough compiles per batch for a batch of some tens of milliseconds.
      int iterations = std::max(3, 20000 / std::max(1, fleet));
      std::vector<double> per_compile;
      for (int batch = 0; batch < kBatches; batch++) {
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; i++) {
          CompiledSpec compiled = compile_query_spec(parse_query_spec(c.spec), dbs);
          sink += compiled.queries.size() + compiled.combine.size();
        }
        std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
        per_compile.push_back(took.count() / iterations);
      }
      std::printf("%-18s %9d   %21.1f\n", c.name, static_cast<int>(dbs.size()), median(per_compile));
    }
  }
  return sink == 0 ? 1 : 0;
}
