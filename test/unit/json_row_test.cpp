#include "core/json_row.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using multidb::JsonKind;

TEST(JsonKind, NumbersBooleansJsonAndTheRestAsStrings) {
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kInt2Oid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kInt4Oid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kInt8Oid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kFloat4Oid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kFloat8Oid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kNumericOid), JsonKind::kNumber);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kBoolOid), JsonKind::kBoolean);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kJsonOid), JsonKind::kEmbeddedJson);
  EXPECT_EQ(multidb::json_kind_for_type(multidb::kJsonbOid), JsonKind::kEmbeddedJson);
  EXPECT_EQ(multidb::json_kind_for_type(25 /* text */), JsonKind::kString);
  EXPECT_EQ(multidb::json_kind_for_type(1184 /* timestamptz */), JsonKind::kString);
  EXPECT_EQ(multidb::json_kind_for_type(790 /* money: not a JSON number */), JsonKind::kString);
  EXPECT_EQ(multidb::json_kind_for_type(123456 /* a remote domain or user type */), JsonKind::kString);
}

TEST(UniqueColumnKeys, KeepsDistinctNamesInOrder) {
  EXPECT_EQ(multidb::unique_column_keys({"id", "name", "price"}),
            (std::vector<std::string>{"id", "name", "price"}));
}

TEST(UniqueColumnKeys, RepeatedNamesGetNumberedSuffixes) {
  EXPECT_EQ(multidb::unique_column_keys({"a", "a", "a"}), (std::vector<std::string>{"a", "a_2", "a_3"}));
}

TEST(UniqueColumnKeys, SkipsSuffixesAlreadyTaken) {
  EXPECT_EQ(multidb::unique_column_keys({"a", "a_2", "a"}), (std::vector<std::string>{"a", "a_2", "a_3"}));
  EXPECT_EQ(multidb::unique_column_keys({"a", "a", "a_2"}), (std::vector<std::string>{"a", "a_2", "a_2_2"}));
}

TEST(UniqueColumnKeys, EmptyAndOddNames) {
  EXPECT_TRUE(multidb::unique_column_keys({}).empty());
  EXPECT_EQ(multidb::unique_column_keys({"?column?", "?column?", ""}),
            (std::vector<std::string>{"?column?", "?column?_2", ""}));
}
