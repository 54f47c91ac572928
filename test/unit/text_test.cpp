// core/text: UTF-8 made valid, counts bounded.
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace multidb;

TEST(ValidUtf8, KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(valid_utf8("plain"), "plain");
  EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(valid_utf8(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}

TEST(ValidUtf8, IsValidSaysWhetherValidUtf8WouldChangeTheText) {
  const std::string samples[] = {"", "plain", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "a\xFF" "b",
                                 std::string("a\0b", 3), "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80"};
  for (const std::string& text : samples) EXPECT_EQ(is_valid_utf8(text), valid_utf8(text) == text) << text;
}

TEST(BoundedCount, OnlyFiniteNonNegativeValuesInRange) {
  EXPECT_EQ(bounded_count(7, 100), 7);
  EXPECT_EQ(bounded_count(3e9, 2147483647), -1);
  EXPECT_EQ(bounded_count(1e300, 2147483647), -1);
  EXPECT_EQ(bounded_count(-1, 100), -1);
  EXPECT_EQ(bounded_count(0.0 / 0.0, 100), -1);
}
