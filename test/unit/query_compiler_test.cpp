// core/query_compiler and core/column_type_family: a spec compiled against each database's schema — the exact
// SQL of each mode, every operator and type family, quoting and injection attempts, and the errors naming the
// field, the column, its type and the database at fault.
#include "core/column_type_family.hpp"
#include "core/query_compiler.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace multidb;
using nlohmann::json;

namespace {

TableInfo orders_table() {
  TableInfo t;
  t.schema = "public";
  t.name = "orders";
  t.kind = "table";
  for (auto [name, type] : std::vector<std::pair<const char*, const char*>>{
           {"id", "integer"},
           {"status", "text"},
           {"total", "numeric(12,2)"},
           {"created_at", "timestamp with time zone"},
           {"day", "date"},
           {"at_time", "time without time zone"},
           {"paid", "boolean"},
           {"ref", "uuid"},
           {"payload", "jsonb"},
           {"tags", "text[]"},
           {"mood", "order_mood"},
           {"code", "character varying(20)"},
           {"we\"ird", "text"},
           {"with space", "text"},
           {"Ünïcode", "text"},
           {"UPPER", "integer"},
       })
    t.columns.push_back({name, type, true, "", {}});
  return t;
}

DatabaseSchema shop(const std::string& name) {
  DatabaseSchema db;
  db.database = name;
  db.tables.push_back(orders_table());
  TableInfo other;
  other.schema = "sales";
  other.name = "leads";
  other.columns.push_back({"id", "integer", true, "", {}});
  db.tables.push_back(other);
  return db;
}

std::vector<DatabaseSchema> two() { return {shop("production"), shop("backup")}; }

CompiledSpec compile(const std::string& spec_text, const std::vector<DatabaseSchema>& dbs = two()) {
  return compile_query_spec(parse_query_spec(spec_text), dbs);
}

// The spec over production and backup's public.orders, with `extra` members.
std::string spec_with(const json& extra) {
  json spec = {{"connections", {"production", "backup"}}, {"table", "orders"}};
  for (const auto& item : extra.items()) spec[item.key()] = item.value();
  return spec.dump();
}

// The WHERE line of the fanout statement of a one-condition filter.
std::string where_of(const json& condition) {
  std::string sql = compile(spec_with({{"columns", {"id"}}, {"filter", condition}})).queries[0].sql;
  size_t at = sql.find("\nWHERE ");
  if (at == std::string::npos) return "(no WHERE)";
  size_t end = sql.find('\n', at + 1);
  return sql.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
}

struct Refusal {
  std::string kind;  // "22023", or the SpecSchemaError's SQLSTATE
  std::string field;
  std::string message;
  std::string database;
};

Refusal refusal(const std::string& spec_text, const std::vector<DatabaseSchema>& dbs = two()) {
  try {
    compile(spec_text, dbs);
  } catch (const SpecError& e) {
    return {"22023", e.field(), e.what(), ""};
  } catch (const SpecSchemaError& e) {
    return {e.sqlstate(), e.field(), e.what(), e.database()};
  }
  return {"(accepted)", "", "", ""};
}

json cond(const std::string& column, const std::string& op, const json& value = json()) {
  json c = {{"column", column}, {"op", op}};
  if (!value.is_null()) c["value"] = value;
  return c;
}

}  // namespace

// ---- exact SQL of each mode ------------------------------------------------------------------------------------

TEST(QueryCompiler, FanoutSql) {
  CompiledSpec c = compile(spec_with({{"filter", {{"and", {cond("status", "=", "paid"), cond("total", ">", 10)}}}},
                                      {"group_by", {"status", {{"column", "created_at"}, {"by", "month"}}}},
                                      {"summaries", {{{"fn", "count"}}, {{"fn", "sum"}, {"column", "total"}, {"as", "revenue"}}}},
                                      {"sort", {{{"column", "revenue"}, {"dir", "desc"}}}},
                                      {"limit", 100}}));
  const std::string expected =
      "SELECT \"status\", CAST(date_trunc('month', \"created_at\") AS date) AS \"created_at_month\", count(*) AS "
      "\"count\", sum(\"total\") AS \"revenue\"\n"
      "FROM \"public\".\"orders\"\n"
      "WHERE \"status\" = 'paid' AND \"total\" > '10'\n"
      "GROUP BY \"status\", CAST(date_trunc('month', \"created_at\") AS date)\n"
      "ORDER BY \"revenue\" DESC\n"
      "LIMIT 100";
  ASSERT_EQ(c.queries.size(), 2u);
  EXPECT_EQ(c.queries[0].database, "production");
  EXPECT_EQ(c.queries[1].database, "backup");
  EXPECT_EQ(c.queries[0].sql, expected);
  EXPECT_EQ(c.queries[1].sql, expected);
  EXPECT_EQ(c.combine, "");
  EXPECT_EQ(c.mode, SpecMode::kFanout);
  EXPECT_EQ(c.output_columns, (std::vector<std::string>{"status", "created_at_month", "count", "revenue"}));
  EXPECT_EQ(c.description,
            "orders: count, sum of total per status, created_at (month), 2 filters, first 100; on 2 databases");
  EXPECT_EQ(compiled_plan_json(c),
            json({{"queries", {{{"database", "production"}, {"sql", expected}}, {{"database", "backup"}, {"sql", expected}}}}})
                .dump());
}

TEST(QueryCompiler, FanoutOfEveryColumnAllDatabasesHave) {
  std::vector<DatabaseSchema> dbs = two();
  dbs[1].tables[0].columns.erase(dbs[1].tables[0].columns.begin() + 2, dbs[1].tables[0].columns.end());
  CompiledSpec c = compile(spec_with({}), dbs);
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\", \"status\"\nFROM \"public\".\"orders\"");
  EXPECT_EQ(c.output_columns, (std::vector<std::string>{"id", "status"}));
  EXPECT_EQ(c.description, "orders: every column; on 2 databases");
  // Sorting by a column only one database has is sorting by no output column.
  Refusal r = refusal(spec_with({{"sort", {{{"column", "total"}}}}}), dbs);
  EXPECT_EQ(r.field, "sort[0].column");
  EXPECT_EQ(r.message, "invalid query spec: sort[0].column: \"total\" is not an output column; the output columns are: id, status");
}

TEST(QueryCompiler, GroupsWithoutSummariesAndRenamedGroups) {
  CompiledSpec c = compile(spec_with({{"group_by", {{{"column", "status"}, {"as", "state"}}, {{"column", "day"}, {"by", "week"}}}}}));
  EXPECT_EQ(c.queries[0].sql,
            "SELECT \"status\" AS \"state\", CAST(date_trunc('week', \"day\") AS date) AS \"day_week\"\n"
            "FROM \"public\".\"orders\"\n"
            "GROUP BY \"status\", CAST(date_trunc('week', \"day\") AS date)");
  EXPECT_EQ(c.description, "orders: distinct status, day (week); on 2 databases");
}

TEST(QueryCompiler, TotalsSql) {
  CompiledSpec c = compile(spec_with({{"mode", "totals"},
                                      {"group_by", {"status"}},
                                      {"summaries", {{{"fn", "count"}}, {{"fn", "avg"}, {"column", "total"}}}},
                                      {"sort", {{{"column", "count"}, {"dir", "desc"}}}},
                                      {"limit", 5}}));
  const std::string step =
      "SELECT \"status\", count(*) AS \"count\", sum(\"total\") AS \"avg_total_sum\", count(\"total\") AS \"avg_total_count\"\n"
      "FROM \"public\".\"orders\"\n"
      "GROUP BY \"status\"";
  EXPECT_EQ(c.queries[0].sql, step);
  EXPECT_EQ(c.queries[1].sql, step);
  EXPECT_EQ(c.combine,
            "SELECT \"status\", CAST(sum(\"count\") AS bigint) AS \"count\", sum(\"avg_total_sum\") / "
            "nullif(sum(\"avg_total_count\"), 0) AS \"avg_total\"\n"
            "FROM (SELECT \"status\", \"count\", \"avg_total_sum\", \"avg_total_count\" FROM \"production\"\n"
            "      UNION ALL SELECT \"status\", \"count\", \"avg_total_sum\", \"avg_total_count\" FROM \"backup\") AS t\n"
            "GROUP BY \"status\"\n"
            "ORDER BY \"count\" DESC\n"
            "LIMIT 5");
  EXPECT_EQ(c.output_columns, (std::vector<std::string>{"status", "count", "avg_total"}));
  EXPECT_EQ(compiled_plan_json(c),
            nlohmann::ordered_json({{"queries", {{{"database", "production"}, {"sql", step}}, {{"database", "backup"}, {"sql", step}}}},
                                    {"combine", c.combine}})
                .dump());
  EXPECT_EQ(c.description, "orders: count, average total per status, first 5; totals across 2 databases");
}

// Each summary's partial on the databases and its merge in the combine step.
struct TotalsCase {
  const char* fn;
  const char* column;
  const char* step_select;
  const char* step_group_by;
  const char* union_columns;
  const char* combine_select;
};

class QueryCompilerTotals : public ::testing::TestWithParam<TotalsCase> {};

TEST_P(QueryCompilerTotals, PartialAndMerge) {
  const TotalsCase& tc = GetParam();
  json summary = {{"fn", tc.fn}};
  if (*tc.column) summary["column"] = tc.column;
  CompiledSpec c = compile(spec_with({{"mode", "totals"}, {"group_by", {"status"}}, {"summaries", {summary}}}));
  EXPECT_EQ(c.queries[0].sql, std::string("SELECT \"status\", ") + tc.step_select + "\nFROM \"public\".\"orders\"\nGROUP BY " +
                                  tc.step_group_by);
  EXPECT_EQ(c.combine, std::string("SELECT \"status\", ") + tc.combine_select + "\nFROM (SELECT " + tc.union_columns +
                           " FROM \"production\"\n      UNION ALL SELECT " + tc.union_columns +
                           " FROM \"backup\") AS t\nGROUP BY \"status\"");
}

INSTANTIATE_TEST_SUITE_P(
    EachSummary, QueryCompilerTotals,
    ::testing::Values(
        TotalsCase{"count", "", "count(*) AS \"count\"", "\"status\"", "\"status\", \"count\"",
                   "CAST(sum(\"count\") AS bigint) AS \"count\""},
        TotalsCase{"count_distinct", "id", "\"id\"", "\"status\", \"id\"", "\"status\", \"id\"",
                   "count(DISTINCT \"id\") AS \"count_distinct_id\""},
        TotalsCase{"sum", "total", "sum(\"total\") AS \"sum_total\"", "\"status\"", "\"status\", \"sum_total\"",
                   "sum(\"sum_total\") AS \"sum_total\""},
        TotalsCase{"avg", "total", "sum(\"total\") AS \"avg_total_sum\", count(\"total\") AS \"avg_total_count\"",
                   "\"status\"", "\"status\", \"avg_total_sum\", \"avg_total_count\"",
                   "sum(\"avg_total_sum\") / nullif(sum(\"avg_total_count\"), 0) AS \"avg_total\""},
        TotalsCase{"min", "created_at", "min(\"created_at\") AS \"min_created_at\"", "\"status\"",
                   "\"status\", \"min_created_at\"", "min(\"min_created_at\") AS \"min_created_at\""},
        TotalsCase{"max", "code", "max(\"code\") AS \"max_code\"", "\"status\"", "\"status\", \"max_code\"",
                   "max(\"max_code\") AS \"max_code\""}),
    [](const ::testing::TestParamInfo<TotalsCase>& info) { return std::string(info.param.fn); });

TEST(QueryCompiler, TotalsCountDistinctOfAGroupColumnReusesIt) {
  CompiledSpec c = compile(spec_with({{"mode", "totals"}, {"group_by", {"status"}},
                                      {"summaries", {{{"fn", "count_distinct"}, {"column", "status"}}, {{"fn", "count_distinct"}, {"column", "id"}},
                                                     {{"fn", "count_distinct"}, {"column", "id"}, {"as", "ids"}}}}}));
  EXPECT_EQ(c.queries[0].sql, "SELECT \"status\", \"id\"\nFROM \"public\".\"orders\"\nGROUP BY \"status\", \"id\"");
  EXPECT_EQ(c.combine,
            "SELECT \"status\", count(DISTINCT \"status\") AS \"count_distinct_status\", count(DISTINCT \"id\") AS "
            "\"count_distinct_id\", count(DISTINCT \"id\") AS \"ids\"\n"
            "FROM (SELECT \"status\", \"id\" FROM \"production\"\n"
            "      UNION ALL SELECT \"status\", \"id\" FROM \"backup\") AS t\n"
            "GROUP BY \"status\"");
}

TEST(QueryCompiler, TotalsStepColumnsNeverClash) {
  // A summary named like the count_distinct column's step column, and one named like avg's partials.
  CompiledSpec c = compile(spec_with({{"mode", "totals"},
                                      {"summaries", {{{"fn", "count_distinct"}, {"column", "status"}},
                                                     {{"fn", "count"}, {"as", "status"}},
                                                     {{"fn", "max"}, {"column", "total"}, {"as", "a_sum"}},
                                                     {{"fn", "avg"}, {"column", "total"}, {"as", "a"}}}}}));
  EXPECT_EQ(c.queries[0].sql,
            "SELECT \"status\", count(*) AS \"status_2\", max(\"total\") AS \"a_sum\", sum(\"total\") AS \"a_sum_2\", "
            "count(\"total\") AS \"a_count\"\nFROM \"public\".\"orders\"\nGROUP BY \"status\"");
  EXPECT_EQ(c.combine,
            "SELECT count(DISTINCT \"status\") AS \"count_distinct_status\", CAST(sum(\"status_2\") AS bigint) AS "
            "\"status\", max(\"a_sum\") AS \"a_sum\", sum(\"a_sum_2\") / nullif(sum(\"a_count\"), 0) AS \"a\"\n"
            "FROM (SELECT \"status\", \"status_2\", \"a_sum\", \"a_sum_2\", \"a_count\" FROM \"production\"\n"
            "      UNION ALL SELECT \"status\", \"status_2\", \"a_sum\", \"a_sum_2\", \"a_count\" FROM \"backup\") AS t");
}

TEST(QueryCompiler, TotalsOfRowsUnionsSortsAndLimits) {
  CompiledSpec c = compile(spec_with({{"mode", "totals"}, {"columns", {"id", "total"}},
                                      {"sort", {{{"column", "total"}, {"dir", "desc"}}}}, {"limit", 3}}));
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\", \"total\"\nFROM \"public\".\"orders\"\nORDER BY \"total\" DESC\nLIMIT 3");
  EXPECT_EQ(c.combine,
            "SELECT \"id\", \"total\"\n"
            "FROM (SELECT \"id\", \"total\" FROM \"production\"\n"
            "      UNION ALL SELECT \"id\", \"total\" FROM \"backup\") AS t\n"
            "ORDER BY \"total\" DESC\nLIMIT 3");
  // Without a limit each database sends every row, unsorted; the combine step sorts.
  c = compile(spec_with({{"mode", "totals"}, {"columns", {"id"}}, {"sort", {{{"column", "id"}}}}}));
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\"\nFROM \"public\".\"orders\"");
  EXPECT_EQ(c.combine.substr(c.combine.size() - 14), "\nORDER BY \"id\"");
}

TEST(QueryCompiler, TotalsWithoutGroupsIsOneRow) {
  CompiledSpec c = compile(spec_with({{"mode", "totals"}, {"summaries", {{{"fn", "count"}}}},
                                      {"filter", cond("paid", "=", true)}}));
  EXPECT_EQ(c.queries[0].sql, "SELECT count(*) AS \"count\"\nFROM \"public\".\"orders\"\nWHERE \"paid\" = 'true'");
  EXPECT_EQ(c.combine,
            "SELECT CAST(sum(\"count\") AS bigint) AS \"count\"\n"
            "FROM (SELECT \"count\" FROM \"production\"\n      UNION ALL SELECT \"count\" FROM \"backup\") AS t");
}

TEST(QueryCompiler, CompareSqlRunsOnAThenB) {
  std::vector<DatabaseSchema> dbs = {shop("backup"), shop("production")};
  CompiledSpec c = compile(R"({"table": "orders", "columns": ["id", "status"], "sort": [{"column": "id"}],
                               "mode": "compare", "compare": {"a": "production", "b": "backup", "key": ["id"]}})",
                           dbs);
  ASSERT_EQ(c.queries.size(), 2u);
  EXPECT_EQ(c.queries[0].database, "production");
  EXPECT_EQ(c.queries[1].database, "backup");
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\", \"status\"\nFROM \"public\".\"orders\"\nORDER BY \"id\"");
  EXPECT_EQ(c.queries[1].sql, c.queries[0].sql);
  EXPECT_EQ(c.compare_a, "production");
  EXPECT_EQ(c.compare_b, "backup");
  EXPECT_EQ(c.compare_key, (std::vector<std::string>{"id"}));
  EXPECT_EQ(c.combine, "");
  EXPECT_EQ(c.description, "orders: id, status; production compared with backup");
  EXPECT_EQ(compiled_plan_json(c).find("combine"), std::string::npos);
  // The databases must be exactly a and b.
  Refusal r = refusal(R"({"table": "orders", "mode": "compare", "compare": {"a": "production", "b": "staging"}})", dbs);
  EXPECT_EQ(r.field, "connections");
  EXPECT_NE(r.message.find("exactly compare.a and compare.b"), std::string::npos);
  r = refusal(R"({"table": "orders", "mode": "compare", "compare": {"a": "production", "b": "backup", "key": ["nope"]}})", dbs);
  EXPECT_EQ(r.field, "compare.key[0]");
}

// ---- every operator ----------------------------------------------------------------------------------------------

TEST(QueryCompiler, EveryOperator) {
  EXPECT_EQ(where_of(cond("total", "=", 5)), "\"total\" = '5'");
  EXPECT_EQ(where_of(cond("total", "<>", 5)), "\"total\" <> '5'");
  EXPECT_EQ(where_of(cond("total", "<", -1.5)), "\"total\" < '-1.5'");
  EXPECT_EQ(where_of(cond("total", "<=", "1e3")), "\"total\" <= '1e3'");
  EXPECT_EQ(where_of(cond("total", ">", 0)), "\"total\" > '0'");
  EXPECT_EQ(where_of(cond("total", ">=", "10.00")), "\"total\" >= '10.00'");
  EXPECT_EQ(where_of(cond("created_at", "between", {"2024-01-01", "2024-12-31 23:59:59"})),
            "\"created_at\" BETWEEN '2024-01-01' AND '2024-12-31 23:59:59'");
  EXPECT_EQ(where_of(cond("status", "in", {"paid", "sent"})), "\"status\" IN ('paid', 'sent')");
  EXPECT_EQ(where_of(cond("id", "not in", {1, 2, 3})), "\"id\" NOT IN ('1', '2', '3')");
  EXPECT_EQ(where_of(cond("status", "like", "pa%")), "\"status\" LIKE 'pa%'");
  EXPECT_EQ(where_of(cond("code", "ilike", "%X_")), "\"code\" ILIKE '%X_'");
  EXPECT_EQ(where_of(cond("payload", "is null")), "\"payload\" IS NULL");
  EXPECT_EQ(where_of(cond("tags", "is not null")), "\"tags\" IS NOT NULL");
  EXPECT_EQ(where_of(cond("created_at", "last", {{"amount", 30}, {"unit", "day"}})),
            "\"created_at\" >= CURRENT_DATE - '30 days'::interval");
  EXPECT_EQ(where_of(cond("day", "last", {{"amount", 1}, {"unit", "week"}})),
            "\"day\" >= CURRENT_DATE - '1 week'::interval");
  EXPECT_EQ(where_of(cond("day", "last", {{"amount", 6}, {"unit", "month"}})),
            "\"day\" >= CURRENT_DATE - '6 months'::interval");
  EXPECT_EQ(where_of(cond("created_at", "last", {{"amount", 2}, {"unit", "year"}})),
            "\"created_at\" >= CURRENT_DATE - '2 years'::interval");
}

TEST(QueryCompiler, FilterTreeParentheses) {
  EXPECT_EQ(where_of({{"or", {{{"and", {cond("id", "=", 1), cond("id", "=", 2)}}}, {{"not", {{"or", {cond("id", "=", 3), cond("id", "=", 4)}}}}}}}}),
            "(\"id\" = '1' AND \"id\" = '2') OR NOT (\"id\" = '3' OR \"id\" = '4')");
  EXPECT_EQ(where_of({{"and", {{{"or", {cond("id", "=", 1)}}}}}}), "\"id\" = '1'");
  EXPECT_EQ(where_of({{"not", cond("status", "is null")}}), "NOT (\"status\" IS NULL)");
}

// ---- every type family -------------------------------------------------------------------------------------------

TEST(ColumnTypeFamily, SortsFormatTypeNames) {
  EXPECT_EQ(column_type_family("integer"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("bigint"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("smallint"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("numeric(12,2)"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("double precision"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("real"), TypeFamily::kNumeric);
  EXPECT_EQ(column_type_family("text"), TypeFamily::kText);
  EXPECT_EQ(column_type_family("character varying(20)"), TypeFamily::kText);
  EXPECT_EQ(column_type_family("character(1)"), TypeFamily::kText);
  EXPECT_EQ(column_type_family("boolean"), TypeFamily::kBoolean);
  EXPECT_EQ(column_type_family("date"), TypeFamily::kDatetime);
  EXPECT_EQ(column_type_family("timestamp(3) with time zone"), TypeFamily::kDatetime);
  EXPECT_EQ(column_type_family("timestamp without time zone"), TypeFamily::kDatetime);
  EXPECT_EQ(column_type_family("time with time zone"), TypeFamily::kDatetime);
  EXPECT_EQ(column_type_family("uuid"), TypeFamily::kUuid);
  EXPECT_EQ(column_type_family("jsonb"), TypeFamily::kUnordered);
  EXPECT_EQ(column_type_family("json"), TypeFamily::kUnordered);
  EXPECT_EQ(column_type_family("xml"), TypeFamily::kUnordered);
  EXPECT_EQ(column_type_family("integer[]"), TypeFamily::kUnordered);
  EXPECT_EQ(column_type_family("point"), TypeFamily::kUnordered);
  EXPECT_EQ(column_type_family("order_mood"), TypeFamily::kOther);
  EXPECT_EQ(column_type_family("interval"), TypeFamily::kOther);
  EXPECT_EQ(column_type_family(""), TypeFamily::kOther);
  EXPECT_TRUE(is_date_or_timestamp("timestamp(6) without time zone"));
  EXPECT_TRUE(is_date_or_timestamp("date"));
  EXPECT_FALSE(is_date_or_timestamp("time without time zone"));
  EXPECT_STREQ(type_family_name(TypeFamily::kUnordered), "unordered");
}

// Which operators each family's column takes: every pair, accepted or refused with the op's field.
TEST(QueryCompiler, OperatorsPerTypeFamily) {
  struct Column {
    const char* name;
    json value;  // a value that fits the column
    const char* ops;  // the operators it takes, each between '|'
  };
  const Column columns[] = {
      {"total", 5, "|=|<>|<|<=|>|>=|between|in|not in|is null|is not null|"},
      {"status", "x", "|=|<>|<|<=|>|>=|between|in|not in|like|ilike|is null|is not null|"},
      {"paid", true, "|=|<>|in|not in|is null|is not null|"},
      {"created_at", "2024-05-01", "|=|<>|<|<=|>|>=|between|in|not in|is null|is not null|last|"},
      {"at_time", "12:30", "|=|<>|<|<=|>|>=|between|in|not in|is null|is not null|"},
      {"ref", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "|=|<>|in|not in|is null|is not null|"},
      {"payload", "{}", "|is null|is not null|"},
      {"tags", "{}", "|is null|is not null|"},
      {"mood", "happy", "|=|<>|<|<=|>|>=|between|in|not in|is null|is not null|"},
  };
  const char* ops[] = {"=", "<>", "<", "<=", ">", ">=", "between", "in", "not in", "like", "ilike", "is null", "is not null", "last"};
  for (const Column& column : columns) {
    for (const char* op : ops) {
      std::string o = op;
      json value;
      if (o == "between") value = {column.value, column.value};
      else if (o == "in" || o == "not in") value = {column.value};
      else if (o == "last") value = {{"amount", 3}, {"unit", "day"}};
      else if (o == "like" || o == "ilike") value = "x%";
      else if (o != "is null" && o != "is not null") value = column.value;
      bool fits = std::string(column.ops).find("|" + o + "|") != std::string::npos;
      Refusal r = refusal(spec_with({{"columns", {"id"}}, {"filter", cond(column.name, op, value)}}));
      if (fits) {
        EXPECT_EQ(r.kind, "(accepted)") << column.name << " " << op << ": " << r.message;
      } else {
        EXPECT_EQ(r.kind, "22023") << column.name << " " << op;
        EXPECT_EQ(r.field, "filter.op") << column.name << " " << op << ": " << r.message;
      }
    }
  }
  Refusal r = refusal(spec_with({{"filter", {{"and", {cond("id", "=", 1), cond("total", "like", "1%")}}}}}));
  EXPECT_EQ(r.message,
            "invalid query spec: filter.and[1].op: \"like\" needs a text column, and \"total\" is numeric(12,2) (a numeric "
            "type) on production");
  r = refusal(spec_with({{"filter", cond("paid", "<", true)}}));
  EXPECT_EQ(r.message,
            "invalid query spec: filter.op: \"<\" needs a column whose values have an order (numbers, text, dates and "
            "times, not boolean or uuid), and \"paid\" is boolean on production");
  r = refusal(spec_with({{"filter", cond("at_time", "last", {{"amount", 3}, {"unit", "day"}})}}));
  EXPECT_EQ(r.message, "invalid query spec: filter.op: \"last\" needs a date or timestamp column, and \"at_time\" is time "
                       "without time zone (a datetime type) on production");
}

TEST(QueryCompiler, ValuesPerTypeFamily) {
  struct Case {
    const char* column;
    json value;
    bool fits;
  };
  const Case cases[] = {
      {"total", 5, true},           {"total", "-5.25e2", true},   {"total", "abc", false},
      {"total", true, false},       {"total", "1 OR 1=1", false}, {"total", "", false},
      {"id", "+7", true},           {"id", ".5", true},           {"id", "5.", true},
      {"status", "any text", true}, {"status", 42, true},         {"status", false, false},
      {"paid", true, true},         {"paid", "FALSE", true},      {"paid", "yes", false},
      {"paid", 1, false},           {"created_at", "2024-05-01", true}, {"created_at", "2024-05-01T10:00:00Z", true},
      {"created_at", "2024-05-01 10:00:00.123+02:00", true},      {"created_at", "today", true},
      {"created_at", "05/01/2024", false},                         {"created_at", 20240501, false},
      {"day", "2024-05-01 10:00", true},                           {"day", "2024-5-1", false},
      {"at_time", "10:30:00", true}, {"at_time", "2024-05-01", false},
      {"ref", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", true},      {"ref", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", true},
      {"ref", "a0eebc99", false},   {"ref", 12, false},
      {"mood", "happy", true},      {"mood", 3, true},            {"mood", true, true},
  };
  for (const Case& c : cases) {
    Refusal r = refusal(spec_with({{"columns", {"id"}}, {"filter", cond(c.column, "=", c.value)}}));
    if (c.fits) {
      EXPECT_EQ(r.kind, "(accepted)") << c.column << " " << c.value.dump() << ": " << r.message;
    } else {
      EXPECT_EQ(r.field, "filter.value") << c.column << " " << c.value.dump() << ": " << r.message;
    }
  }
  Refusal r = refusal(spec_with({{"filter", cond("total", "in", {1, "two", 3})}}));
  EXPECT_EQ(r.field, "filter.value[1]");
  EXPECT_EQ(r.message, "invalid query spec: filter.value[1]: \"two\" is not a number, and \"total\" is numeric(12,2) (a "
                       "numeric type) on production");
  r = refusal(spec_with({{"filter", cond("created_at", "between", {"2024-01-01", "soon"})}}));
  EXPECT_EQ(r.field, "filter.value[1]");
  EXPECT_NE(r.message.find("is not a date or timestamp"), std::string::npos);
}

TEST(QueryCompiler, SummariesPerTypeFamily) {
  struct Case {
    const char* fn;
    const char* column;
    bool fits;
  };
  const Case cases[] = {
      {"sum", "total", true},   {"sum", "status", false},        {"avg", "id", true},           {"avg", "created_at", false},
      {"min", "status", true},  {"max", "created_at", true},     {"min", "paid", false},        {"max", "ref", false},
      {"min", "mood", true},    {"max", "payload", false},       {"count_distinct", "ref", true}, {"count_distinct", "paid", true},
      {"count_distinct", "payload", false}, {"count_distinct", "tags", false}, {"sum", "mood", false},
  };
  for (const Case& c : cases) {
    Refusal r = refusal(spec_with({{"summaries", {{{"fn", c.fn}, {"column", c.column}}}}}));
    if (c.fits) EXPECT_EQ(r.kind, "(accepted)") << c.fn << " " << c.column << ": " << r.message;
    else EXPECT_EQ(r.field, "summaries[0].fn") << c.fn << " " << c.column << ": " << r.message;
  }
  Refusal r = refusal(spec_with({{"summaries", {{{"fn", "count"}}, {{"fn", "sum"}, {"column", "status"}}}}}));
  EXPECT_EQ(r.message, "invalid query spec: summaries[1].fn: \"sum\" needs a numeric column, and \"status\" is text on production");
}

TEST(QueryCompiler, GroupingPerTypeFamily) {
  Refusal r = refusal(spec_with({{"group_by", {{{"column", "status"}, {"by", "month"}}}}}));
  EXPECT_EQ(r.field, "group_by[0].by");
  EXPECT_EQ(r.message, "invalid query spec: group_by[0].by: \"month\" needs a date or timestamp column, and \"status\" is "
                       "text on production");
  EXPECT_EQ(refusal(spec_with({{"group_by", {{{"column", "at_time"}, {"by", "day"}}}}})).field, "group_by[0].by");
  r = refusal(spec_with({{"group_by", {"status", "payload"}}}));
  EXPECT_EQ(r.field, "group_by[1].column");
  EXPECT_NE(r.message.find("cannot group by \"payload\" is jsonb"), std::string::npos);
  EXPECT_EQ(refusal(spec_with({{"group_by", {"paid", "ref", "mood", {{"column", "day"}, {"by", "year"}}}}})).kind, "(accepted)");
}

// ---- quoting and injection ---------------------------------------------------------------------------------------

TEST(QueryCompiler, SqlLiteralAndIdentifier) {
  EXPECT_EQ(sql_literal("paid"), "'paid'");
  EXPECT_EQ(sql_literal("O'Brien"), "'O''Brien'");
  EXPECT_EQ(sql_literal("a\\b'c"), "E'a\\\\b''c'");
  EXPECT_EQ(sql_literal("$$; SELECT 1; $$"), "'$$; SELECT 1; $$'");
  EXPECT_EQ(sql_literal("two\nlines"), "'two\nlines'");
  EXPECT_EQ(sql_literal(""), "''");
  EXPECT_THROW(sql_literal(std::string("a\0b", 3)), std::invalid_argument);
  EXPECT_EQ(sql_identifier("orders"), "\"orders\"");
  EXPECT_EQ(sql_identifier("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(sql_identifier("With Space"), "\"With Space\"");
  EXPECT_EQ(sql_identifier("Ünïcode"), "\"Ünïcode\"");
}

TEST(QueryCompiler, OddIdentifiersAreQuoted) {
  CompiledSpec c = compile(spec_with({{"columns", {"we\"ird", "with space", "Ünïcode", "UPPER"}},
                                      {"sort", {{{"column", "UPPER"}, {"dir", "desc"}}}}}));
  EXPECT_EQ(c.queries[0].sql,
            "SELECT \"we\"\"ird\", \"with space\", \"Ünïcode\", \"UPPER\"\nFROM \"public\".\"orders\"\nORDER BY \"UPPER\" DESC");
  // Database names in the combine step, and a table whose schema and name need quotes.
  std::vector<DatabaseSchema> dbs = {shop("EU-West"), shop("x\"y")};
  for (DatabaseSchema& db : dbs) {
    db.tables[0].schema = "My Schema";
    db.tables[0].name = "Or\"ders";
  }
  c = compile(R"({"connections": ["EU-West", "x\"y"], "table": {"schema": "My Schema", "name": "Or\"ders"},
                  "mode": "totals", "summaries": [{"fn": "count", "as": "N \"rows\""}]})",
              dbs);
  EXPECT_EQ(c.queries[0].sql, "SELECT count(*) AS \"N \"\"rows\"\"\"\nFROM \"My Schema\".\"Or\"\"ders\"");
  EXPECT_EQ(c.combine,
            "SELECT CAST(sum(\"N \"\"rows\"\"\") AS bigint) AS \"N \"\"rows\"\"\"\n"
            "FROM (SELECT \"N \"\"rows\"\"\" FROM \"EU-West\"\n      UNION ALL SELECT \"N \"\"rows\"\"\" FROM \"x\"\"y\") AS t");
  EXPECT_EQ(c.description, "My Schema.Or\"ders: count; totals across 2 databases");
}

TEST(QueryCompiler, OddValuesAreQuoted) {
  EXPECT_EQ(where_of(cond("status", "=", "it's")), "\"status\" = 'it''s'");
  EXPECT_EQ(where_of(cond("status", "=", "C:\\temp\\")), "\"status\" = E'C:\\\\temp\\\\'");
  EXPECT_EQ(where_of(cond("status", "=", "\\'")), "\"status\" = E'\\\\'''");
  EXPECT_EQ(where_of(cond("status", "=", "$$ $tag$")), "\"status\" = '$$ $tag$'");
  EXPECT_EQ(compile(spec_with({{"columns", {"id"}}, {"filter", cond("status", "in", {"a\nb", "Ünï"})}})).queries[0].sql,
            "SELECT \"id\"\nFROM \"public\".\"orders\"\nWHERE \"status\" IN ('a\nb', 'Ünï')");
  EXPECT_EQ(where_of(cond("status", "like", "100\\%")), "\"status\" LIKE E'100\\\\%'");
  // NUL is refused when the spec is read: no SQL literal can carry it.
  EXPECT_THROW(parse_query_spec(spec_with({{"filter", cond("status", "=", std::string("a\0b", 3))}})), SpecError);
}

TEST(QueryCompiler, InjectionAttemptsStayInsideTheirQuotes) {
  EXPECT_EQ(where_of(cond("status", "=", "'; DROP TABLE orders; --")), "\"status\" = '''; DROP TABLE orders; --'");
  EXPECT_EQ(where_of(cond("status", "=", "\\'; DROP TABLE orders; --")),
            "\"status\" = E'\\\\''; DROP TABLE orders; --'");
  EXPECT_EQ(where_of(cond("status", "in", {"x') OR ('1'='1"})), "\"status\" IN ('x'') OR (''1''=''1')");
  // A numeric column takes numbers only: no text reaches it.
  EXPECT_EQ(refusal(spec_with({{"filter", cond("total", "=", "1; DROP TABLE orders")}})).field, "filter.value");
  // Names: a column whose name is an attack exists only if the schema says so, and is then quoted whole.
  std::vector<DatabaseSchema> dbs = two();
  for (DatabaseSchema& db : dbs) db.tables[0].columns.push_back({"x\" FROM pg_authid --", "text", true, "", {}});
  CompiledSpec c = compile(spec_with({{"columns", {"x\" FROM pg_authid --"}}}), dbs);
  EXPECT_EQ(c.queries[0].sql, "SELECT \"x\"\" FROM pg_authid --\"\nFROM \"public\".\"orders\"");
  c = compile(spec_with({{"summaries", {{{"fn", "count"}, {"as", "n\" FROM pg_authid; --"}}}}}));
  EXPECT_EQ(c.queries[0].sql, "SELECT count(*) AS \"n\"\" FROM pg_authid; --\"\nFROM \"public\".\"orders\"");
  Refusal r = refusal(spec_with({{"columns", {"id\" FROM pg_authid --"}}}));
  EXPECT_EQ(r.kind, "42703");
  r = refusal(spec_with({{"table", "orders\"; DROP TABLE x; --"}}));
  EXPECT_EQ(r.kind, "42P01");
}

// ---- the schema: tables and columns a database lacks, types that differ -----------------------------------------

TEST(QueryCompiler, TableMissingInTheSecondDatabase) {
  std::vector<DatabaseSchema> dbs = two();
  dbs[1].tables.erase(dbs[1].tables.begin());
  Refusal r = refusal(spec_with({}), dbs);
  EXPECT_EQ(r.kind, "42P01");
  EXPECT_EQ(r.database, "backup");
  EXPECT_EQ(r.field, "table");
  EXPECT_EQ(r.message, "table \"public.orders\" does not exist on database \"backup\"");
  r = refusal(R"({"connections": ["production"], "table": "nowhere"})");
  EXPECT_EQ(r.message, "table \"public.nowhere\" does not exist on database \"production\"");
  EXPECT_EQ(r.database, "production");
}

TEST(QueryCompiler, ColumnMissingInTheSecondDatabase) {
  std::vector<DatabaseSchema> dbs = two();
  dbs[1].tables[0].columns.erase(dbs[1].tables[0].columns.begin() + 2);  // total
  Refusal r = refusal(spec_with({{"filter", {{"and", {cond("id", ">", 1), cond("total", ">", 1)}}}}}), dbs);
  EXPECT_EQ(r.kind, "42703");
  EXPECT_EQ(r.database, "backup");
  EXPECT_EQ(r.field, "filter.and[1].column");
  EXPECT_EQ(r.message, "column \"total\" of table \"public.orders\" does not exist on database \"backup\"");
  EXPECT_EQ(refusal(spec_with({{"summaries", {{{"fn", "count"}}, {{"fn", "sum"}, {"column", "total"}}}}}), dbs).field,
            "summaries[1].column");
  EXPECT_EQ(refusal(spec_with({{"group_by", {"id", "total"}}}), dbs).field, "group_by[1].column");
  EXPECT_EQ(refusal(spec_with({{"columns", {"id", "total"}}}), dbs).field, "columns[1]");
  // The first database in order that lacks it is named.
  dbs.push_back(shop("staging"));
  std::swap(dbs[0], dbs[1]);
  EXPECT_EQ(refusal(spec_with({{"columns", {"total"}}}), dbs).database, "backup");
}

TEST(QueryCompiler, TypeDifferingBetweenDatabases) {
  std::vector<DatabaseSchema> dbs = two();
  dbs[1].tables[0].columns[2].type = "text";  // total is text on backup
  Refusal r = refusal(spec_with({{"summaries", {{{"fn", "sum"}, {"column", "total"}}}}}), dbs);
  EXPECT_EQ(r.field, "summaries[0].fn");
  EXPECT_EQ(r.message, "invalid query spec: summaries[0].fn: \"sum\" needs a numeric column, and \"total\" is text on backup");
  r = refusal(spec_with({{"filter", cond("total", "like", "1%")}}), dbs);
  EXPECT_EQ(r.message, "invalid query spec: filter.op: \"like\" needs a text column, and \"total\" is numeric(12,2) (a "
                       "numeric type) on production");
  // Fanout may list it (each database answers in its own type); totals cannot merge integer with text.
  EXPECT_EQ(refusal(spec_with({{"columns", {"total"}}}), dbs).kind, "(accepted)");
  r = refusal(spec_with({{"mode", "totals"}, {"group_by", {"total"}}}), dbs);
  EXPECT_EQ(r.field, "group_by[0].column");
  EXPECT_EQ(r.message, "invalid query spec: group_by[0].column: totals merge the databases' rows, and \"total\" is "
                       "numeric(12,2) (a numeric type) on production but \"total\" is text on backup");
  EXPECT_EQ(refusal(spec_with({{"mode", "totals"}, {"columns", {"id", "total"}}}), dbs).field, "columns[1]");
  // Same family, other type: fine (integer and bigint meet in one union).
  dbs = two();
  dbs[1].tables[0].columns[0].type = "bigint";
  EXPECT_EQ(refusal(spec_with({{"mode", "totals"}, {"group_by", {"id"}}, {"summaries", {{{"fn", "max"}, {"column", "id"}}}}}), dbs).kind,
            "(accepted)");
}

TEST(QueryCompiler, UnqualifiedTableLookup) {
  std::vector<DatabaseSchema> dbs = two();
  // Only in sales: that schema.
  CompiledSpec c = compile(R"({"connections": ["production", "backup"], "table": "leads"})", dbs);
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\"\nFROM \"sales\".\"leads\"");
  EXPECT_EQ(c.description, "sales.leads: every column; on 2 databases");
  // In public and elsewhere: public.
  for (DatabaseSchema& db : dbs) {
    TableInfo copy = db.tables[1];
    copy.schema = "public";
    db.tables.push_back(copy);
  }
  c = compile(R"({"connections": ["production", "backup"], "table": "leads"})", dbs);
  EXPECT_EQ(c.queries[0].sql, "SELECT \"id\"\nFROM \"public\".\"leads\"");
  // In two schemas, neither public: ambiguous, naming them.
  dbs = two();
  dbs[1].tables[1].schema = "billing";
  Refusal r = refusal(R"({"connections": ["production", "backup"], "table": "leads"})", dbs);
  EXPECT_EQ(r.kind, "22023");
  EXPECT_EQ(r.field, "table");
  EXPECT_EQ(r.message, "invalid query spec: table: \"leads\" is in several schemas (billing, sales); write \"<schema>.leads\"");
  // Qualified: exactly that one, which backup lacks.
  r = refusal(R"({"connections": ["production", "backup"], "table": "sales.leads"})", dbs);
  EXPECT_EQ(r.kind, "42P01");
  EXPECT_EQ(r.message, "table \"sales.leads\" does not exist on database \"backup\"");
}

TEST(QueryCompiler, SortByOutputNamesOnly) {
  Refusal r = refusal(spec_with({{"group_by", {"status"}}, {"summaries", {{{"fn", "count"}}}}, {"sort", {{{"column", "total"}}}}}));
  EXPECT_EQ(r.field, "sort[0].column");
  EXPECT_EQ(r.message, "invalid query spec: sort[0].column: \"total\" is not an output column; the output columns are: status, count");
}

TEST(QueryCompiler, ABigFleetAndTheBounds) {
  std::vector<DatabaseSchema> dbs;
  for (int i = 0; i < 1000; i++) dbs.push_back(shop("tenant_" + std::to_string(i)));
  CompiledSpec c = compile(R"({"connections": ["@tenants"], "table": "orders", "mode": "totals",
                               "summaries": [{"fn": "count"}], "limit": 1000000})",
                           dbs);
  EXPECT_EQ(c.queries.size(), 1000u);
  EXPECT_EQ(c.queries[999].database, "tenant_999");
  EXPECT_NE(c.combine.find("      UNION ALL SELECT \"count\" FROM \"tenant_999\") AS t\nLIMIT 1000000"), std::string::npos);
  EXPECT_EQ(c.description, "orders: count, first 1000000; totals across 1000 databases");
  // The same database twice is refused, and so is none.
  dbs = {shop("a"), shop("a")};
  EXPECT_EQ(refusal(R"({"connections": ["a"], "table": "orders"})", dbs).field, "connections");
  EXPECT_EQ(refusal(R"({"connections": ["a"], "table": "orders"})", {}).field, "connections");
}

TEST(QueryCompiler, DescriptionIsOneShortLine) {
  json summaries = json::array();
  for (int i = 0; i < 40; i++) summaries.push_back({{"fn", "count"}, {"as", "n" + std::to_string(i)}});
  CompiledSpec c = compile(spec_with({{"summaries", summaries}}));
  EXPECT_LE(c.description.size(), 200u);
  EXPECT_EQ(c.description.find('\n'), std::string::npos);
  EXPECT_EQ(c.description.substr(c.description.size() - 3), "...");
}
