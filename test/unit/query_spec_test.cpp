// core/query_spec: reading a query spec (every member, its bounds, the field path of each error) and writing it
// back in its canonical form.
#include "core/query_spec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace multidb;
using nlohmann::json;

namespace {

// The spec text with `base` members merged with `extra` (null removes a member).
std::string spec_with(const json& extra) {
  json spec = {{"connections", {"production", "backup"}}, {"table", "public.orders"}};
  for (const auto& item : extra.items()) {
    if (item.value().is_null()) spec.erase(item.key());
    else spec[item.key()] = item.value();
  }
  return spec.dump();
}

struct Refusal {
  std::string field;
  std::string message;
};

Refusal refusal(const std::string& text) {
  try {
    parse_query_spec(text);
  } catch (const SpecError& e) {
    return {e.field(), e.what()};
  }
  return {"(accepted)", ""};
}

}  // namespace

TEST(QuerySpec, ReadsAFullSpec) {
  QuerySpec spec = parse_query_spec(R"({
    "connections": ["production", "@tenants"], "table": "public.orders",
    "filter": {"and": [{"column": "status", "op": "in", "value": ["paid", "sent"]},
                       {"not": {"column": "total", "op": "between", "value": [10, "20.5"]}},
                       {"or": [{"column": "paid", "op": "=", "value": true}, {"column": "note", "op": "is null"}]},
                       {"column": "created_at", "op": "last", "value": {"amount": 30, "unit": "day"}}]},
    "group_by": ["status", {"column": "created_at", "by": "month", "as": "month"}],
    "summaries": [{"fn": "count"}, {"fn": "sum", "column": "total", "as": "revenue"}],
    "sort": [{"column": "revenue", "dir": "desc"}, {"column": "month"}],
    "limit": 100, "mode": "totals"})");
  EXPECT_EQ(spec.connections, (std::vector<std::string>{"production", "@tenants"}));
  EXPECT_EQ(spec.table_schema, "public");
  EXPECT_EQ(spec.table_name, "orders");
  ASSERT_TRUE(spec.filter);
  const FilterNode& root = *spec.filter;
  EXPECT_EQ(root.kind, FilterNode::Kind::kAnd);
  ASSERT_EQ(root.children.size(), 4u);
  EXPECT_EQ(root.children[0].op, FilterOp::kIn);
  EXPECT_EQ(root.children[0].values, (std::vector<std::string>{"paid", "sent"}));
  EXPECT_EQ(root.children[0].path, "filter.and[0]");
  EXPECT_EQ(root.children[1].kind, FilterNode::Kind::kNot);
  EXPECT_EQ(root.children[1].children[0].path, "filter.and[1].not");
  EXPECT_EQ(root.children[1].children[0].values, (std::vector<std::string>{"10", "20.5"}));
  EXPECT_EQ(root.children[1].children[0].value_is_number, (std::vector<bool>{true, false}));
  EXPECT_EQ(root.children[2].children[0].values[0], "true");
  EXPECT_TRUE(root.children[2].children[0].value_is_boolean[0]);
  EXPECT_EQ(root.children[2].children[1].op, FilterOp::kIsNull);
  EXPECT_EQ(root.children[3].last_amount, 30);
  EXPECT_EQ(root.children[3].last_unit, "day");
  ASSERT_EQ(spec.group_by.size(), 2u);
  EXPECT_EQ(spec.group_by[1].by, "month");
  EXPECT_EQ(group_output_name(spec.group_by[1]), "month");
  EXPECT_EQ(summary_output_name(spec.summaries[0]), "count");
  EXPECT_EQ(summary_output_name(spec.summaries[1]), "revenue");
  EXPECT_TRUE(spec.sort[0].descending);
  EXPECT_FALSE(spec.sort[1].descending);
  EXPECT_EQ(spec.limit, 100);
  EXPECT_EQ(spec.mode, SpecMode::kTotals);
}

TEST(QuerySpec, DefaultsAndTableForms) {
  QuerySpec spec = parse_query_spec(R"({"connections": ["a"], "table": "orders"})");
  EXPECT_EQ(spec.mode, SpecMode::kFanout);
  EXPECT_EQ(spec.table_schema, "");
  EXPECT_FALSE(spec.limit);
  EXPECT_FALSE(spec.filter);
  spec = parse_query_spec(R"({"connections": ["a"], "table": {"schema": "my.schema", "name": "or.ders"}})");
  EXPECT_EQ(spec.table_schema, "my.schema");
  EXPECT_EQ(spec.table_name, "or.ders");
}

TEST(QuerySpec, NullMeansNotSet) {
  QuerySpec spec = parse_query_spec(R"({"connections": ["a"], "table": "t", "columns": null, "filter": null,
      "group_by": null, "summaries": null, "sort": null, "limit": null, "mode": null, "compare": null})");
  EXPECT_EQ(spec.mode, SpecMode::kFanout);
  EXPECT_FALSE(spec.limit);
  EXPECT_FALSE(spec.filter);
  spec = parse_query_spec(R"({"connections": ["a"], "table": "t", "filter": {"column": "x", "op": "is null", "value": null},
      "group_by": [{"column": "d", "by": null, "as": null}], "summaries": [{"fn": "count", "column": null}]})");
  EXPECT_TRUE(spec.filter->values.empty());
  EXPECT_EQ(group_output_name(spec.group_by[0]), "d");
  EXPECT_EQ(summary_output_name(spec.summaries[0]), "count");
}

TEST(QuerySpec, OutputNamesByDefault) {
  EXPECT_EQ(group_output_name({"created_at", "week", ""}), "created_at_week");
  EXPECT_EQ(group_output_name({"status", "", ""}), "status");
  EXPECT_EQ(summary_output_name({"count_distinct", "id", ""}), "count_distinct_id");
  EXPECT_EQ(summary_output_name({"avg", "total", ""}), "avg_total");
  EXPECT_EQ(summary_output_name({"min", "total", ""}), "min_total");
  EXPECT_EQ(summary_output_name({"max", "total", "top"}), "top");
}

TEST(QuerySpec, CanonicalJsonRoundTrips) {
  const char* specs[] = {
      R"({"connections": ["a", "b"], "table": "orders", "columns": ["id", "note"],
          "filter": {"or": [{"column": "note", "op": "ilike", "value": "%x%"}, {"not": {"column": "id", "op": "<", "value": 5}}]},
          "sort": [{"column": "id", "dir": "desc"}], "limit": 7})",
      R"({"table": {"schema": "s", "name": "t"}, "mode": "compare", "compare": {"a": "x", "b": "y", "key": []}})",
      R"({"connections": ["a"], "table": "t", "group_by": [{"column": "d", "by": "year", "as": "y"}],
          "summaries": [{"fn": "avg", "column": "n"}, {"fn": "count"}], "mode": "totals",
          "filter": {"column": "ok", "op": "=", "value": false}})",
      R"({"connections": ["a"], "table": "t", "filter": {"column": "x", "op": "in", "value": [1.5, "2", true, -3]}})",
  };
  for (const char* text : specs) {
    QuerySpec spec = parse_query_spec(text);
    std::string canonical = query_spec_to_json(spec);
    EXPECT_EQ(query_spec_to_json(parse_query_spec(canonical)), canonical) << text;
  }
  EXPECT_EQ(query_spec_to_json(parse_query_spec(specs[2])),
            R"({"connections":["a"],"table":{"name":"t"},"filter":{"column":"ok","op":"=","value":false},)"
            R"("group_by":[{"column":"d","by":"year","as":"y"}],"summaries":[{"fn":"avg","column":"n"},{"fn":"count"}],)"
            R"("mode":"totals"})");
  EXPECT_EQ(query_spec_to_json(parse_query_spec(specs[1])),
            R"({"table":{"schema":"s","name":"t"},"mode":"compare","compare":{"a":"x","b":"y","key":[]}})");
  // Values keep their JSON kind: a number, a string, a boolean.
  EXPECT_NE(query_spec_to_json(parse_query_spec(specs[3])).find(R"("value":[1.5,"2",true,-3])"), std::string::npos);
}

TEST(QuerySpec, AcceptsTheBounds) {
  json in = json::array();
  for (size_t i = 0; i < kMaxSpecInValues; i++) in.push_back(i);
  EXPECT_EQ(parse_query_spec(spec_with({{"filter", {{"column", "id"}, {"op", "in"}, {"value", in}}}}))
                .filter->values.size(),
            kMaxSpecInValues);
  EXPECT_EQ(parse_query_spec(spec_with({{"limit", kMaxSpecLimit}})).limit, kMaxSpecLimit);
  EXPECT_EQ(parse_query_spec(spec_with({{"limit", 1}})).limit, 1);
  json filter = {{"column", "id"}, {"op", "is null"}};
  for (size_t depth = 1; depth < kMaxSpecFilterDepth; depth++) filter = {{"not", filter}};
  EXPECT_NO_THROW(parse_query_spec(spec_with({{"filter", filter}})));
  json many = json::array();
  for (size_t i = 0; i + 1 < kMaxSpecFilterNodes; i++) many.push_back({{"column", "id"}, {"op", "is null"}});
  EXPECT_NO_THROW(parse_query_spec(spec_with({{"filter", {{"and", many}}}})));
  EXPECT_NO_THROW(parse_query_spec(spec_with({{"columns", {std::string(kMaxSpecNameBytes, 'c')}}})));
  EXPECT_NO_THROW(parse_query_spec(spec_with({{"filter", {{"column", "n"}, {"op", "="}, {"value", std::string(kMaxSpecValueBytes, 'v')}}}})));
}

TEST(QuerySpec, MessageNamesTheFieldFirst) {
  Refusal r = refusal(spec_with({{"summaries", {{{"fn", "median"}, {"column", "total"}}}}}));
  EXPECT_EQ(r.field, "summaries[0].fn");
  EXPECT_EQ(r.message,
            "invalid query spec: summaries[0].fn: \"median\" is not one of count, count_distinct, sum, avg, min, max");
  r = refusal(spec_with({{"lmit", 5}}));
  EXPECT_EQ(r.field, "lmit");
  EXPECT_EQ(r.message,
            "invalid query spec: lmit: unknown member \"lmit\"; a spec may have: connections, table, columns, filter, "
            "group_by, summaries, sort, limit, mode, compare");
}

// One case per field path (and per way of being wrong there): the field the error names, and words of its message.
struct BadSpec {
  const char* name;
  std::string text;
  const char* field;
  const char* words;
};

class QuerySpecRefuses : public ::testing::TestWithParam<BadSpec> {};

TEST_P(QuerySpecRefuses, NamingTheField) {
  const BadSpec& bad = GetParam();
  Refusal r = refusal(bad.text);
  EXPECT_EQ(r.field, bad.field) << r.message;
  EXPECT_NE(r.message.find(bad.words), std::string::npos) << r.message;
  EXPECT_EQ(r.message.rfind(std::string("invalid query spec: ") + bad.field + ": ", 0), 0u) << r.message;
}

namespace {

json nested_not(size_t depth) {
  json filter = {{"column", "id"}, {"op", "is null"}};
  for (size_t d = 1; d < depth; d++) filter = {{"not", filter}};
  return filter;
}

json conditions(size_t n) {
  json many = json::array();
  for (size_t i = 0; i < n; i++) many.push_back({{"column", "id"}, {"op", "is null"}});
  return many;
}

json cond(const json& op, const json& value) { return {{"column", "x"}, {"op", op}, {"value", value}}; }

const BadSpec kBadSpecs[] = {
    {"NotJson", "{\"table\": ", "spec", "not valid JSON"},
    {"NotAnObject", "[1, 2]", "spec", "must be a JSON object, not an array"},
    {"TooBig", std::string(kMaxSpecBytes + 1, ' '), "spec", "at most 1048576"},
    {"TooDeep", std::string(70, '[') + std::string(70, ']'), "spec", "nested deeper than 64"},
    {"UnknownMember", spec_with({{"colums", {"id"}}}), "colums", "unknown member \"colums\""},
    {"ConnectionsNotArray", spec_with({{"connections", "production"}}), "connections", "must be an array"},
    {"ConnectionsEmpty", spec_with({{"connections", json::array()}}), "connections", "at least one connection"},
    {"ConnectionsMissing", spec_with({{"connections", nullptr}}), "connections", "at least one connection"},
    {"ConnectionTwice", spec_with({{"connections", {"a", "b", "a"}}}), "connections[2]", "listed twice"},
    {"ConnectionEmptyName", spec_with({{"connections", {""}}}), "connections[0]", "must not be empty"},
    {"ConnectionNotString", spec_with({{"connections", {"a", 7}}}), "connections[1]", "must be a string"},
    {"ConnectionBareAt", spec_with({{"connections", {"@"}}}), "connections[0]", "a group needs a name"},
    {"ConnectionTooLong", spec_with({{"connections", {std::string(256, 'c')}}}), "connections[0]", "longer than 255"},
    {"TooManyConnections", spec_with({{"connections", json(std::vector<std::string>(1001, "x"))}}), "connections",
     "at most 1000"},
    {"TableMissing", spec_with({{"table", nullptr}}), "table", "needs a table"},
    {"TableNumber", spec_with({{"table", 5}}), "table", "not a number"},
    {"TableTwoDots", spec_with({{"table", "a.b.c"}}), "table", "more than one dot"},
    {"TableEmptySchema", spec_with({{"table", ".orders"}}), "table", "must not be empty"},
    {"TableObjectNoName", spec_with({{"table", {{"schema", "public"}}}}), "table", "needs \"name\""},
    {"TableObjectEmptyName", spec_with({{"table", {{"name", ""}}}}), "table.name", "must not be empty"},
    {"TableObjectSchemaNumber", spec_with({{"table", {{"name", "t"}, {"schema", 1}}}}), "table.schema", "must be a string"},
    {"TableObjectUnknown", spec_with({{"table", {{"name", "t"}, {"db", "x"}}}}), "table.db", "unknown member"},
    {"TableNameTooLong", spec_with({{"table", std::string(64, 't')}}), "table", "longer than 63 bytes"},
    {"TableNameNul", spec_with({{"table", std::string("or\0ders", 7)}}), "table", "NUL"},
    {"ColumnsNotArray", spec_with({{"columns", "id"}}), "columns", "must be an array"},
    {"ColumnsTooMany", spec_with({{"columns", json(std::vector<int>(201, 1))}}), "columns", "at most 200"},
    {"ColumnTwice", spec_with({{"columns", {"id", "id"}}}), "columns[1]", "listed twice"},
    {"ColumnNotString", spec_with({{"columns", {"id", nullptr}}}), "columns[1]", "must be a string, not null"},
    {"ColumnTooLong", spec_with({{"columns", {std::string(64, 'c')}}}), "columns[0]", "longer than 63 bytes"},
    {"ColumnsWithSummaries", spec_with({{"columns", {"id"}}, {"summaries", {{{"fn", "count"}}}}}), "columns",
     "omit \"columns\""},
    {"FilterNotObject", spec_with({{"filter", {1}}}), "filter", "must be an object"},
    {"FilterConditionNoColumn", spec_with({{"filter", {{"op", "="}, {"value", 1}}}}), "filter", "needs \"column\""},
    {"FilterConditionNoOp", spec_with({{"filter", {{"column", "x"}}}}), "filter", "needs \"op\""},
    {"FilterAndPlusColumn", spec_with({{"filter", {{"and", conditions(1)}, {"column", "x"}}}}), "filter.column",
     "unknown member"},
    {"FilterAndEmpty", spec_with({{"filter", {{"and", json::array()}}}}), "filter.and", "must not be empty"},
    {"FilterOrNotArray", spec_with({{"filter", {{"or", cond("=", 1)}}}}), "filter.or", "must be an array"},
    {"FilterUnknownOp", spec_with({{"filter", {{"and", {cond("=", 1), cond("~", "x")}}}}}), "filter.and[1].op",
     "\"~\" is not one of"},
    {"FilterOpNotString", spec_with({{"filter", cond(1, 1)}}), "filter.op", "must be one of"},
    {"FilterMisspeltMember", spec_with({{"filter", {{"and", {cond("=", 1), {{"colum", "x"}, {"op", "="}}}}}}}),
     "filter.and[1].colum", "unknown member \"colum\""},
    {"FilterColumnEmpty", spec_with({{"filter", {{"column", ""}, {"op", "is null"}}}}), "filter.column", "must not be empty"},
    {"FilterNotChild", spec_with({{"filter", {{"not", {{"column", "x"}, {"op", "like"}, {"value", 1}}}}}}),
     "filter.not.value", "needs a string pattern"},
    {"FilterValueForIsNull", spec_with({{"filter", cond("is null", 1)}}), "filter.value", "takes no value"},
    {"FilterValueMissing", spec_with({{"filter", {{"column", "x"}, {"op", ">="}}}}), "filter.value", "needs a value"},
    {"FilterValueNull", spec_with({{"filter", cond("=", nullptr)}}), "filter.value", "use the operator \"is null\""},
    {"FilterValueObject", spec_with({{"filter", cond("=", {{"a", 1}})}}), "filter.value", "not an object"},
    {"FilterValueArrayForEq", spec_with({{"filter", cond("<>", {1, 2})}}), "filter.value", "not an array"},
    {"FilterValueNul", spec_with({{"filter", cond("=", std::string("a\0b", 3))}}), "filter.value", "NUL"},
    {"FilterValueTooLong", spec_with({{"filter", cond("=", std::string(kMaxSpecValueBytes + 1, 'v'))}}),
     "filter.value", "longer than 10000 bytes"},
    {"BetweenOneValue", spec_with({{"filter", cond("between", {1})}}), "filter.value", "[low, high]"},
    {"BetweenNullHigh", spec_with({{"filter", cond("between", {1, nullptr})}}), "filter.value[1]", "must not be null"},
    {"InEmpty", spec_with({{"filter", cond("in", json::array())}}), "filter.value", "must not be empty"},
    {"InScalar", spec_with({{"filter", cond("not in", "a")}}), "filter.value", "must be an array"},
    {"InTooMany", spec_with({{"filter", cond("in", json(std::vector<int>(kMaxSpecInValues + 1, 1)))}}),
     "filter.value", "at most 1000"},
    {"InObjectElement", spec_with({{"filter", cond("in", {1, {{"x", 1}}})}}), "filter.value[1]", "not an object"},
    {"LikeNumber", spec_with({{"filter", cond("ilike", 5)}}), "filter.value", "needs a string pattern"},
    {"LastNotObject", spec_with({{"filter", cond("last", 30)}}), "filter.value", "must be an object"},
    {"LastNoAmount", spec_with({{"filter", cond("last", {{"unit", "day"}})}}), "filter.value", "needs \"amount\""},
    {"LastAmountZero", spec_with({{"filter", cond("last", {{"amount", 0}, {"unit", "day"}})}}), "filter.value.amount",
     "from 1 to 100000"},
    {"LastAmountFraction", spec_with({{"filter", cond("last", {{"amount", 1.5}, {"unit", "day"}})}}),
     "filter.value.amount", "whole number"},
    {"LastNoUnit", spec_with({{"filter", cond("last", {{"amount", 3}})}}), "filter.value", "needs \"unit\""},
    {"LastUnitUnknown", spec_with({{"filter", cond("last", {{"amount", 3}, {"unit", "fortnight"}})}}),
     "filter.value.unit", "\"fortnight\" is not one of day, week, month, year"},
    {"LastUnknownMember", spec_with({{"filter", cond("last", {{"amount", 3}, {"unit", "day"}, {"ago", true}})}}),
     "filter.value.ago", "unknown member"},
    {"FilterTooDeep", spec_with({{"filter", nested_not(kMaxSpecFilterDepth + 1)}}),
     "filter.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not", "nested deeper than 16"},
    {"FilterTooManyNodes", spec_with({{"filter", {{"and", conditions(kMaxSpecFilterNodes)}}}}), "filter.and[499]",
     "more than 500 nodes"},
    {"GroupByNotArray", spec_with({{"group_by", "status"}}), "group_by", "must be an array"},
    {"GroupByNumber", spec_with({{"group_by", {"a", 3}}}), "group_by[1]", "must be an object, not a number"},
    {"GroupByNoColumn", spec_with({{"group_by", {{{"by", "day"}}}}}), "group_by[0]", "needs \"column\""},
    {"GroupByUnknownBy", spec_with({{"group_by", {"a", "b", {{"column", "c"}, {"by", "hour"}}}}}), "group_by[2].by",
     "\"hour\" is not one of day, week, month, year"},
    {"GroupByEmptyAs", spec_with({{"group_by", {{{"column", "c"}, {"as", ""}}}}}), "group_by[0].as", "must not be empty"},
    {"GroupByUnknownMember", spec_with({{"group_by", {{{"column", "c"}, {"dir", "asc"}}}}}), "group_by[0].dir",
     "unknown member"},
    {"GroupByTwice", spec_with({{"group_by", {"status", "status"}}}), "group_by[1]", "named twice"},
    {"GroupByAsClashes", spec_with({{"group_by", {"status", {{"column", "kind"}, {"as", "status"}}}}}),
     "group_by[1].as", "named twice"},
    {"SummariesNotArray", spec_with({{"summaries", {{"fn", "count"}}}}), "summaries", "must be an array"},
    {"SummaryNotObject", spec_with({{"summaries", {"count"}}}), "summaries[0]", "must be an object"},
    {"SummaryNoFn", spec_with({{"summaries", {{{"column", "x"}}}}}), "summaries[0]", "needs \"fn\""},
    {"SummaryUnknownFn", spec_with({{"summaries", {{{"fn", "count"}}, {{"fn", "median"}, {"column", "x"}}}}}),
     "summaries[1].fn", "\"median\" is not one of"},
    {"CountWithColumn", spec_with({{"summaries", {{{"fn", "count"}, {"column", "x"}}}}}), "summaries[0].column",
     "takes no column"},
    {"SumWithoutColumn", spec_with({{"summaries", {{{"fn", "sum"}}}}}), "summaries[0]", "\"sum\" needs \"column\""},
    {"SummaryColumnNumber", spec_with({{"summaries", {{{"fn", "max"}, {"column", 1}}}}}), "summaries[0].column",
     "must be a string"},
    {"SummaryUnknownMember", spec_with({{"summaries", {{{"fn", "count"}, {"distinct", true}}}}}),
     "summaries[0].distinct", "unknown member"},
    {"SummaryTwice", spec_with({{"summaries", {{{"fn", "count"}}, {{"fn", "count"}}}}}), "summaries[1]", "named twice"},
    {"SummaryAsClashesWithGroup", spec_with({{"group_by", {"status"}}, {"summaries", {{{"fn", "count"}, {"as", "status"}}}}}),
     "summaries[0].as", "named twice"},
    {"SortNotArray", spec_with({{"sort", "id"}}), "sort", "must be an array"},
    {"SortString", spec_with({{"sort", {"id"}}}), "sort[0]", "must be an object"},
    {"SortNoColumn", spec_with({{"sort", {{{"dir", "asc"}}}}}), "sort[0]", "needs \"column\""},
    {"SortDir", spec_with({{"columns", {"id"}}, {"sort", {{{"column", "id"}, {"dir", "up"}}}}}), "sort[0].dir",
     "\"up\" is not one of asc, desc"},
    {"SortNotOutput", spec_with({{"columns", {"id"}}, {"sort", {{{"column", "id"}}, {{"column", "total"}}}}}),
     "sort[1].column", "\"total\" is not an output column; the output columns are: id"},
    {"SortUnknownMember", spec_with({{"sort", {{{"column", "id"}, {"nulls", "first"}}}}}), "sort[0].nulls",
     "unknown member"},
    {"LimitZero", spec_with({{"limit", 0}}), "limit", "from 1 to 1000000"},
    {"LimitTooBig", spec_with({{"limit", kMaxSpecLimit + 1}}), "limit", "from 1 to 1000000"},
    {"LimitHuge", spec_with({{"limit", 18446744073709551615ull}}), "limit", "from 1 to 1000000"},
    {"LimitFraction", spec_with({{"limit", 2.5}}), "limit", "whole number"},
    {"LimitString", spec_with({{"limit", "10"}}), "limit", "whole number"},
    {"ModeUnknown", spec_with({{"mode", "sideways"}}), "mode", "\"sideways\" is not one of fanout, totals, compare"},
    {"ModeNumber", spec_with({{"mode", 1}}), "mode", "must be one of"},
    {"CompareInFanout", spec_with({{"compare", {{"a", "production"}, {"b", "backup"}}}}), "compare",
     "only in compare mode"},
    {"CompareMissing", spec_with({{"mode", "compare"}}), "compare", "compare mode needs"},
    {"CompareNotObject", spec_with({{"mode", "compare"}, {"compare", {"a", "b"}}}), "compare", "must be an object"},
    {"CompareNoA", spec_with({{"mode", "compare"}, {"compare", {{"b", "backup"}}}}), "compare", "needs \"a\""},
    {"CompareNoB", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}}}}), "compare", "needs \"b\""},
    {"CompareAEmpty", spec_with({{"mode", "compare"}, {"compare", {{"a", ""}, {"b", "backup"}}}}), "compare.a",
     "must not be empty"},
    {"CompareAGroup", spec_with({{"mode", "compare"}, {"compare", {{"a", "@tenants"}, {"b", "backup"}}}}), "compare.a",
     "not a group"},
    {"CompareBGroup", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}, {"b", "@x"}}}}), "compare.b",
     "not a group"},
    {"CompareSame", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}, {"b", "production"}}}}),
     "compare.b", "another database"},
    {"CompareUnknownMember", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}, {"b", "backup"}, {"on", "id"}}}}),
     "compare.on", "unknown member"},
    {"CompareKeyNotArray", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}, {"b", "backup"}, {"key", "id"}}}}),
     "compare.key", "must be an array"},
    {"CompareKeyTwice", spec_with({{"mode", "compare"}, {"compare", {{"a", "production"}, {"b", "backup"}, {"key", {"id", "id"}}}}}),
     "compare.key[1]", "listed twice"},
    {"CompareKeyNotOutput",
     spec_with({{"mode", "compare"}, {"columns", {"id"}}, {"compare", {{"a", "production"}, {"b", "backup"}, {"key", {"email"}}}}}),
     "compare.key[0]", "\"email\" is not an output column"},
    {"CompareWithLimit", spec_with({{"mode", "compare"}, {"limit", 5}, {"compare", {{"a", "production"}, {"b", "backup"}}}}),
     "limit", "no limit"},
    {"CompareOtherConnections",
     spec_with({{"mode", "compare"}, {"connections", {"production", "staging"}}, {"compare", {{"a", "production"}, {"b", "backup"}}}}),
     "connections", "exactly compare.a and compare.b"},
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(EachField, QuerySpecRefuses, ::testing::ValuesIn(kBadSpecs),
                         [](const ::testing::TestParamInfo<BadSpec>& info) { return std::string(info.param.name); });

TEST(QuerySpec, CompareConnectionsMayBeOmittedOrInEitherOrder) {
  EXPECT_NO_THROW(parse_query_spec(R"({"table": "t", "mode": "compare", "compare": {"a": "x", "b": "y"}})"));
  EXPECT_NO_THROW(
      parse_query_spec(R"({"connections": ["y", "x"], "table": "t", "mode": "compare", "compare": {"a": "x", "b": "y"}})"));
}

TEST(QuerySpec, NamesMayBeAnyText) {
  QuerySpec spec = parse_query_spec(
      R"({"connections": ["EU-West"], "table": {"name": "My \"Table\""}, "columns": ["a b", "Ünïcode", "x\"y", "UPPER"]})");
  EXPECT_EQ(spec.table_name, "My \"Table\"");
  EXPECT_EQ(spec.columns[2], "x\"y");
}
