// core/repair_policy: which failures the LLM is asked to repair.
#include "core/repair_policy.hpp"

#include <gtest/gtest.h>

using multidb::FailedStep;
using multidb::llm_may_repair;

TEST(RepairPolicy, RemoteStatementsWithSqlErrors) {
  for (const char* sqlstate : {"42703", "42P01", "42883", "22012", "22P02", "42601", "21000", "XX000"})
    EXPECT_TRUE(llm_may_repair(sqlstate, FailedStep::kRemoteStatement, false)) << sqlstate;
}

TEST(RepairPolicy, NotTheWayToTheRemoteNorAnInterruption) {
  for (const char* sqlstate : {"08001", "08006", "28P01", "28000", "2F003", "57014", "57P01"})
    EXPECT_FALSE(llm_may_repair(sqlstate, FailedStep::kRemoteStatement, false)) << sqlstate;
}

TEST(RepairPolicy, NeverWhatMultidbRefused) {
  EXPECT_FALSE(llm_may_repair("42501", FailedStep::kRemoteStatement, true));
  EXPECT_FALSE(llm_may_repair("42703", FailedStep::kRemoteStatement, true));
}

TEST(RepairPolicy, CombineStep) {
  for (const char* sqlstate : {"42703", "42P01", "22012", "21000"})
    EXPECT_TRUE(llm_may_repair(sqlstate, FailedStep::kCombineStep, false)) << sqlstate;
  for (const char* sqlstate : {"42501", "53200", "XX000", "57014"})
    EXPECT_FALSE(llm_may_repair(sqlstate, FailedStep::kCombineStep, false)) << sqlstate;
}

TEST(RepairPolicy, ASqlstateOfAnotherLengthIsNotRepairable) {
  EXPECT_FALSE(llm_may_repair("", FailedStep::kRemoteStatement, false));
  EXPECT_FALSE(llm_may_repair("4270", FailedStep::kCombineStep, false));
}
