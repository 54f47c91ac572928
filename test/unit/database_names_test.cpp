// core/database_names: a set of database names written compactly, ranges, the group's name, the bound.
#include "core/database_names.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

using namespace multidb;

namespace {

std::vector<std::string> numbered(const std::string& stem, int first, int last, int width) {
  std::vector<std::string> names;
  for (int i = first; i <= last; i++) {
    char digits[32];
    snprintf(digits, sizeof(digits), "%0*d", width, i);
    names.push_back(stem + digits);
  }
  return names;
}

}  // namespace

TEST(DatabaseNames, ARunInSequenceIsARange) {
  CompactNames compact = compact_database_names(numbered("t", 1, 1000, 4));
  EXPECT_EQ(compact.text, "t0001 \xE2\x80\xA6 t1000");
  EXPECT_EQ(compact.count, 1000u);
  EXPECT_EQ(compact.ranges, 1u);
  EXPECT_EQ(compact.left_out, 0u);
  EXPECT_FALSE(compact.is_group);
}

TEST(DatabaseNames, OtherNamesAreListedAndGapsSplitRuns) {
  std::vector<std::string> names = numbered("t", 1, 5, 2);
  names.erase(names.begin() + 2);  // t03 missing: t01, t02 | t04, t05 are too short to be ranges
  std::vector<std::string> more = numbered("t", 7, 9, 2);
  names.insert(names.end(), more.begin(), more.end());
  names.push_back("production");
  names.push_back("backup");
  EXPECT_EQ(compact_database_names(names).text,
            "backup, production, t01, t02, t04, t05, t07 \xE2\x80\xA6 t09");
}

TEST(DatabaseNames, DifferentPaddingNeverShareARun) {
  EXPECT_EQ(compact_database_names({"t8", "t9", "t10", "t11", "t12"}).text, "t8, t9, t10 \xE2\x80\xA6 t12");
  EXPECT_EQ(compact_database_names({"t01", "t2", "t03"}).text, "t01, t2, t03");
  // Numbers sort as numbers, not as text.
  EXPECT_EQ(compact_database_names({"db10", "db9", "db100"}).text, "db9, db10, db100");
}

TEST(DatabaseNames, OrderOfTheInputDoesNotMatterAndDuplicatesCountOnce) {
  std::vector<std::string> names = numbered("tenant_", 1, 30, 3);
  names.push_back("archive");
  std::string text = compact_database_names(names).text;
  std::reverse(names.begin(), names.end());
  names.push_back("tenant_004");
  CompactNames again = compact_database_names(names);
  EXPECT_EQ(again.text, text);
  EXPECT_EQ(again.count, 31u);
  EXPECT_EQ(text, "archive, tenant_001 \xE2\x80\xA6 tenant_030");
}

TEST(DatabaseNames, TheGroupsNameOnlyForExactlyItsMembers) {
  std::vector<std::string> members = numbered("t", 1, 50, 4);
  DatabaseGroup tenants{"@tenants", members};
  CompactNames all = compact_database_names(members, tenants);
  EXPECT_TRUE(all.is_group);
  EXPECT_EQ(all.text, "t0001 \xE2\x80\xA6 t0050 (group @tenants)");
  EXPECT_EQ(compact_database_names(members, {"tenants", members}).text, all.text);
  EXPECT_EQ(all.group, "@tenants");

  std::vector<std::string> fewer(members.begin(), members.end() - 1);
  EXPECT_FALSE(compact_database_names(fewer, tenants).is_group);
  EXPECT_EQ(compact_database_names(fewer, tenants).group, "");
  EXPECT_EQ(compact_database_names(fewer, tenants).text, "t0001 \xE2\x80\xA6 t0049");
  std::vector<std::string> more = members;
  more.push_back("production");
  EXPECT_FALSE(compact_database_names(more, tenants).is_group);
  EXPECT_FALSE(compact_database_names({}, {"@empty", {}}).is_group);
}

TEST(DatabaseNames, TheTextIsBoundedWhateverTheInput) {
  std::vector<std::string> names;
  for (int i = 0; i < 5000; i++) names.push_back("db_" + std::to_string(i * 7) + "_x");  // no run at all
  CompactNames compact = compact_database_names(names, {}, 200);
  EXPECT_LE(compact.text.size(), 200u);
  EXPECT_GT(compact.left_out, 4900u);
  EXPECT_NE(compact.text.find(" more"), std::string::npos);
  EXPECT_EQ(compact.count, 5000u);

  // Every bound from the smallest used (64) up holds, with a group's suffix too.
  DatabaseGroup group{"@scattered", names};
  for (std::size_t bound = 0; bound < 300; bound += 7) {
    CompactNames bounded = compact_database_names(names, group, bound);
    EXPECT_LE(bounded.text.size(), std::max<std::size_t>(bound, 64)) << bound;
    EXPECT_TRUE(bounded.is_group);
  }

  // A name longer than the bound is counted, not cut.
  CompactNames huge = compact_database_names({std::string(500, 'a'), "b"}, {}, 64);
  EXPECT_EQ(huge.text, "2 names");
  EXPECT_EQ(huge.left_out, 2u);

  // Runs and leftovers: "and N more" counts names.
  std::vector<std::string> runs;
  for (char stem = 'a'; stem <= 'z'; stem++) {
    std::vector<std::string> run = numbered(std::string(12, stem), 1, 10, 2);
    runs.insert(runs.end(), run.begin(), run.end());
  }
  CompactNames cut = compact_database_names(runs, {}, 100);
  EXPECT_LE(cut.text.size(), 100u);
  EXPECT_EQ(cut.left_out % 10, 0u);
  EXPECT_NE(cut.text.find(" and " + std::to_string(cut.left_out) + " more"), std::string::npos);
}

TEST(DatabaseNames, VeryLongDigitTailsAreNames) {
  std::string wide(30, '9');
  EXPECT_EQ(compact_database_names({"x" + wide, "x1", "x2", "x3"}).text,
            "x1 \xE2\x80\xA6 x3, x" + wide);
}
