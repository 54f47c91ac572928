// The merge of the databases' descriptions of a statement into one typed column list, and drift from a stored one.
#include "core/statement_description.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using multidb::common_column_type;
using multidb::DescribedColumn;
using multidb::DescribedStatement;
using multidb::description_drift;
using multidb::DriftKind;
using multidb::merge_descriptions;

namespace {

// common_column_type must not depend on which database came first.
std::string common(const std::string& a, const std::string& b) {
  std::string ab = common_column_type(a, b);
  EXPECT_EQ(ab, common_column_type(b, a)) << a << " + " << b;
  return ab;
}

}  // namespace

TEST(CommonColumnType, EqualTypesAreKeptWithTheirTypmods) {
  for (const char* type : {"integer", "numeric(12,2)", "character varying(40)", "timestamp(3) with time zone",
                           "integer[]", "public.mood", "\"My Type\"", "timestamp without time zone"})
    EXPECT_EQ(common(type, type), type);
}

TEST(CommonColumnType, NumbersWidenAlongTheImplicitCasts) {
  EXPECT_EQ(common("integer", "bigint"), "bigint");
  EXPECT_EQ(common("smallint", "integer"), "integer");
  EXPECT_EQ(common("integer", "numeric"), "numeric");
  EXPECT_EQ(common("bigint", "numeric"), "numeric");
  EXPECT_EQ(common("numeric", "real"), "real");
  EXPECT_EQ(common("real", "double precision"), "double precision");
  EXPECT_EQ(common("smallint", "double precision"), "double precision");
  // two different types never keep a typmod
  EXPECT_EQ(common("integer", "numeric(12,2)"), "numeric");
}

TEST(CommonColumnType, StringsTakeTextOrTheLongestLength) {
  EXPECT_EQ(common("character varying(40)", "character varying(80)"), "character varying(80)");
  EXPECT_EQ(common("character varying(40)", "character varying"), "character varying");
  EXPECT_EQ(common("character(3)", "character(5)"), "character(5)");
  EXPECT_EQ(common("character varying", "text"), "text");
  EXPECT_EQ(common("character varying(40)", "text"), "text");
  EXPECT_EQ(common("character(3)", "text"), "text");
  EXPECT_EQ(common("character(3)", "character varying(40)"), "character varying");
  // without a length, character is written bpchar (character alone is character(1))
  EXPECT_EQ(common("character(3)", "bpchar"), "bpchar");
  EXPECT_EQ(common("bpchar", "text"), "text");
  EXPECT_EQ(common("bpchar", "character varying(9)"), "character varying");
}

TEST(CommonColumnType, OneTypeWithDifferentTypmodsLosesIt) {
  EXPECT_EQ(common("numeric(12,2)", "numeric(10,4)"), "numeric");
  EXPECT_EQ(common("numeric(12,2)", "numeric"), "numeric");
  EXPECT_EQ(common("timestamp(3) with time zone", "timestamp with time zone"), "timestamp with time zone");
  EXPECT_EQ(common("timestamp(3) without time zone", "timestamp(6) without time zone"),
            "timestamp without time zone");
  // bit alone is bit(1): without a length format_type quotes it
  EXPECT_EQ(common("bit(3)", "bit(5)"), "\"bit\"");
  EXPECT_EQ(common("bit(3)", "\"bit\""), "\"bit\"");
  EXPECT_EQ(common("bit varying(3)", "bit varying(5)"), "bit varying");
}

TEST(CommonColumnType, DatesAndArrays) {
  EXPECT_EQ(common("date", "timestamp without time zone"), "timestamp without time zone");
  EXPECT_EQ(common("date", "timestamp(0) without time zone"), "timestamp without time zone");
  EXPECT_EQ(common("integer[]", "bigint[]"), "bigint[]");
  EXPECT_EQ(common("numeric(12,2)[]", "numeric(10,4)[]"), "numeric[]");
  EXPECT_EQ(common("character varying(4)[]", "character varying(9)[]"), "character varying(9)[]");
  EXPECT_EQ(common("integer[]", "integer"), "");
  EXPECT_EQ(common("integer[]", "text[]"), "");
}

TEST(CommonColumnType, NoCommonTypeIsEmpty) {
  // a time zone and none: Postgres would convert through TimeZone; refused
  EXPECT_EQ(common("timestamp without time zone", "timestamp with time zone"), "");
  EXPECT_EQ(common("timestamp(3) without time zone", "timestamp with time zone"), "");
  EXPECT_EQ(common("date", "timestamp with time zone"), "");
  EXPECT_EQ(common("time without time zone", "time with time zone"), "");
  EXPECT_EQ(common("integer", "text"), "");
  EXPECT_EQ(common("boolean", "integer"), "");
  EXPECT_EQ(common("timestamp without time zone", "interval"), "");
  EXPECT_EQ(common("public.mood", "text"), "");
  EXPECT_EQ(common("public.mood", "sales.mood"), "");
  EXPECT_EQ(common("\"My Type\"", "\"my type\""), "");
  EXPECT_EQ(common("", "integer"), "");
}

TEST(MergeDescriptions, OneDatabaseIsItsOwnAnswer) {
  auto merge = merge_descriptions({{"eu", {{"id", "integer"}, {"amount", "numeric(12,2)"}}}});
  ASSERT_TRUE(merge.ok) << merge.message;
  EXPECT_EQ(merge.columns, (std::vector<DescribedColumn>{{"id", "integer"}, {"amount", "numeric(12,2)"}}));
}

TEST(MergeDescriptions, EachColumnGetsTheCommonTypeOfAllItsDatabases) {
  auto merge = merge_descriptions({
      {"eu", {{"id", "integer"}, {"name", "character varying(40)"}, {"amount", "numeric(12,2)"}, {"at", "date"}}},
      {"us", {{"id", "bigint"}, {"name", "character varying(80)"}, {"amount", "numeric(12,2)"}, {"at", "date"}}},
      {"asia", {{"id", "integer"}, {"name", "character varying(20)"}, {"amount", "numeric(10,4)"},
                {"at", "timestamp without time zone"}}},
  });
  ASSERT_TRUE(merge.ok) << merge.message;
  EXPECT_EQ(merge.columns, (std::vector<DescribedColumn>{{"id", "bigint"},
                                                         {"name", "character varying(80)"},
                                                         {"amount", "numeric"},
                                                         {"at", "timestamp without time zone"}}));
}

TEST(MergeDescriptions, NoCommonTypeNamesTheColumnTheDatabasesAndTheirTypes) {
  auto merge = merge_descriptions({
      {"eu", {{"id", "integer"}, {"code", "integer"}}},
      {"us", {{"id", "integer"}, {"code", "text"}}},
      {"asia", {{"id", "integer"}, {"code", "integer"}}},
  });
  ASSERT_FALSE(merge.ok);
  EXPECT_EQ(merge.sqlstate, "42804");
  EXPECT_EQ(merge.message, "column \"code\" has no common type across the databases");
  EXPECT_EQ(merge.detail, "Its types: integer on \"eu\", \"asia\"; text on \"us\".");
  EXPECT_NE(merge.hint.find("code::text"), std::string::npos) << merge.hint;
  EXPECT_TRUE(merge.columns.empty());
}

TEST(MergeDescriptions, ATimeZoneAndNoneAsksForAnExplicitConversion) {
  auto merge = merge_descriptions({
      {"eu", {{"at", "timestamp with time zone"}}},
      {"us", {{"at", "timestamp without time zone"}}},
  });
  ASSERT_FALSE(merge.ok);
  EXPECT_EQ(merge.sqlstate, "42804");
  EXPECT_EQ(merge.detail, "Its types: timestamp with time zone on \"eu\"; timestamp without time zone on \"us\".");
  EXPECT_NE(merge.hint.find("TimeZone"), std::string::npos) << merge.hint;
}

TEST(MergeDescriptions, AFailureFoundLateStillNamesEveryDatabase) {
  // integer + bigint merge; the third database's text does not
  auto merge = merge_descriptions({
      {"a", {{"n", "integer"}}},
      {"b", {{"n", "bigint"}}},
      {"c", {{"n", "text"}}},
  });
  ASSERT_FALSE(merge.ok);
  EXPECT_EQ(merge.detail, "Its types: integer on \"a\"; bigint on \"b\"; text on \"c\".");
}

TEST(MergeDescriptions, NamesMustBeTheSameInTheSameOrder) {
  auto renamed = merge_descriptions({
      {"eu", {{"id", "integer"}, {"amount", "numeric"}}},
      {"us", {{"id", "integer"}, {"total", "numeric"}}},
  });
  ASSERT_FALSE(renamed.ok);
  EXPECT_EQ(renamed.sqlstate, "42804");
  EXPECT_EQ(renamed.message, "column 2 is \"amount\" on database \"eu\" but \"total\" on database \"us\"");
  EXPECT_EQ(renamed.detail, "Expected \"amount\" (as database \"eu\" returns), found \"total\" on database \"us\".");
  EXPECT_FALSE(renamed.hint.empty());

  auto reordered = merge_descriptions({
      {"eu", {{"id", "integer"}, {"amount", "numeric"}}},
      {"us", {{"amount", "numeric"}, {"id", "integer"}}},
  });
  ASSERT_FALSE(reordered.ok);
  EXPECT_EQ(reordered.message, "column 1 is \"id\" on database \"eu\" but \"amount\" on database \"us\"");
}

TEST(MergeDescriptions, AColumnOnlySomeDatabasesReturnIsNamed) {
  auto more = merge_descriptions({
      {"eu", {{"id", "integer"}}},
      {"us", {{"id", "integer"}, {"region", "text"}}},
  });
  ASSERT_FALSE(more.ok);
  EXPECT_EQ(more.sqlstate, "42804");
  EXPECT_EQ(more.message, "database \"us\" returns 2 columns but database \"eu\" returns 1");
  EXPECT_EQ(more.detail, "Column 2 \"region\" is only on database \"us\".");

  auto fewer = merge_descriptions({
      {"eu", {{"id", "integer"}, {"region", "text"}}},
      {"us", {{"id", "integer"}}},
  });
  ASSERT_FALSE(fewer.ok);
  EXPECT_EQ(fewer.detail, "Column 2 \"region\" is only on database \"eu\".");
}

TEST(MergeDescriptions, NoDatabaseARepeatedNameOrTooManyColumnsIsRefused) {
  auto none = merge_descriptions({});
  ASSERT_FALSE(none.ok);
  EXPECT_EQ(none.sqlstate, "42P16");

  auto twice = merge_descriptions({{"eu", {{"id", "integer"}, {"id", "bigint"}}}});
  ASSERT_FALSE(twice.ok);
  EXPECT_EQ(twice.sqlstate, "42P16");
  EXPECT_EQ(twice.message, "column \"id\" appears more than once");

  DescribedStatement wide{"eu", {}};
  for (std::size_t i = 0; i <= multidb::kMaxDescribedColumns; ++i)
    wide.columns.push_back({"c" + std::to_string(i), "integer"});
  auto too_wide = merge_descriptions({wide});
  ASSERT_FALSE(too_wide.ok);
  EXPECT_EQ(too_wide.sqlstate, "42P16");
  wide.columns.pop_back();
  EXPECT_TRUE(merge_descriptions({wide}).ok);
}

TEST(DescriptionDrift, NoneWhenEveryDatabaseStillFitsTheStoredColumns) {
  std::vector<DescribedColumn> stored = {{"id", "bigint"}, {"name", "character varying(80)"}};
  // a database still narrower than the stored merge fits it: no drift
  EXPECT_TRUE(description_drift(stored, {{"eu", {{"id", "integer"}, {"name", "character varying(40)"}}},
                                         {"us", {{"id", "bigint"}, {"name", "character varying(80)"}}}})
                  .empty());
  // order is not drift (the view reads its columns by name)
  EXPECT_TRUE(description_drift(stored, {{"eu", {{"name", "character varying(80)"}, {"id", "bigint"}}}}).empty());
}

TEST(DescriptionDrift, RemovedAddedAndRetypedNameTheColumnTheDatabaseAndBothTypes) {
  std::vector<DescribedColumn> stored = {{"id", "integer"}, {"amount", "numeric(12,2)"}, {"at", "date"}};
  auto drift = description_drift(stored, {
                                             {"eu", {{"id", "integer"}, {"amount", "numeric(12,2)"}, {"at", "date"}}},
                                             {"us", {{"id", "bigint"}, {"at", "date"}, {"region", "text"}}},
                                             {"asia", {{"id", "integer"}, {"amount", "numeric(14,2)"},
                                                       {"at", "timestamp with time zone"}}},
                                         });
  ASSERT_EQ(drift.size(), 5u);
  auto expect = [&](std::size_t i, DriftKind kind, const char* column, const char* database, const char* expected,
                    const char* found) {
    EXPECT_EQ(drift[i].kind, kind) << i;
    EXPECT_EQ(drift[i].column, column) << i;
    EXPECT_EQ(drift[i].database, database) << i;
    EXPECT_EQ(drift[i].expected, expected) << i;
    EXPECT_EQ(drift[i].found, found) << i;
  };
  expect(0, DriftKind::kRetyped, "id", "us", "integer", "bigint");
  expect(1, DriftKind::kRemoved, "amount", "us", "numeric(12,2)", "");
  expect(2, DriftKind::kAdded, "region", "us", "", "text");
  expect(3, DriftKind::kRetyped, "amount", "asia", "numeric(12,2)", "numeric(14,2)");
  expect(4, DriftKind::kRetyped, "at", "asia", "date", "timestamp with time zone");
  EXPECT_STREQ(multidb::drift_kind_name(DriftKind::kRemoved), "removed");
  EXPECT_STREQ(multidb::drift_kind_name(DriftKind::kAdded), "added");
  EXPECT_STREQ(multidb::drift_kind_name(DriftKind::kRetyped), "retyped");
}
