// core/sqlstate_names: the condition names of SQLSTATEs.
#include "core/sqlstate_names.hpp"

#include <gtest/gtest.h>

using multidb::sqlstate_condition_name;

TEST(SqlstateNames, PlpgsqlsNames) {
  EXPECT_EQ(sqlstate_condition_name("22P02"), "invalid_text_representation");
  EXPECT_EQ(sqlstate_condition_name("42501"), "insufficient_privilege");
  EXPECT_EQ(sqlstate_condition_name("42P01"), "undefined_table");
  EXPECT_EQ(sqlstate_condition_name("00000"), "successful_completion");
  EXPECT_EQ(sqlstate_condition_name("XX000"), "internal_error");
  EXPECT_EQ(sqlstate_condition_name("P0001"), "raise_exception");
}

TEST(SqlstateNames, ACodeListedTwiceKeepsPlpgsqlsName) {
  EXPECT_EQ(sqlstate_condition_name("2202E"), "array_subscript_error");
  EXPECT_EQ(sqlstate_condition_name("22008"), "datetime_field_overflow");
}

TEST(SqlstateNames, UnknownCodes) {
  EXPECT_EQ(sqlstate_condition_name("AB123"), "");
  EXPECT_EQ(sqlstate_condition_name(""), "");
  EXPECT_EQ(sqlstate_condition_name("22P02x"), "");
  EXPECT_EQ(sqlstate_condition_name("zzzzz"), "");
}
