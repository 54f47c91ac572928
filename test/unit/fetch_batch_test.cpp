#include "core/fetch_batch.hpp"

#include <climits>

#include <gtest/gtest.h>

using multidb::batch_bytes_for;
using multidb::FullBatch;
using multidb::kMaxBatchBytes;
using multidb::next_batch_rows;

namespace {

constexpr double kQuickUs = 2000;  // a batch that came within 2 ms

}  // namespace

TEST(FetchBatch, AfterTheFirstBatchTheNextStaysAtFetchSize) {
  EXPECT_EQ(next_batch_rows(1000, kMaxBatchBytes, true, FullBatch{1000, 40000, kQuickUs}), 1000);
}

TEST(FetchBatch, QuickSmallBatchesGrowFourTimesAtMost) {
  EXPECT_EQ(next_batch_rows(1000, kMaxBatchBytes, false, FullBatch{1000, 40000, kQuickUs}), 4000);
  EXPECT_EQ(next_batch_rows(1000, kMaxBatchBytes, false, FullBatch{4000, 160000, kQuickUs}), 16000);
}

TEST(FetchBatch, ABatchFitsItsBytesByTheLastOnesSizePerRow) {
  // 40 bytes a row: 1 MB holds 26,214 rows, fewer than four times 16,000.
  EXPECT_EQ(next_batch_rows(1000, kMaxBatchBytes, false, FullBatch{16000, 640000, kQuickUs}), 26214);
  // Rows of 100 kB on one of forty connections: 16 MB / 40 holds four.
  EXPECT_EQ(next_batch_rows(1, batch_bytes_for(40), false, FullBatch{4, 400000, kQuickUs}), 4);
}

TEST(FetchBatch, ASlowBatchHoldsASecondsRowsAtItsPace) {
  // Ten rows in half a second: twenty, not forty.
  EXPECT_EQ(next_batch_rows(10, kMaxBatchBytes, false, FullBatch{10, 400, 500000}), 20);
  // Ten rows in ten seconds: back to fetch_size, never fewer.
  EXPECT_EQ(next_batch_rows(10, kMaxBatchBytes, false, FullBatch{10, 400, 10000000}), 10);
}

TEST(FetchBatch, WideRowsStayAtFetchSize) {
  EXPECT_EQ(next_batch_rows(2, kMaxBatchBytes, false, FullBatch{2, 1400000, kQuickUs}), 2);
}

TEST(FetchBatch, NothingOverflowsOnExtremeFacts) {
  // No size and no time: a byte a row at least, so 1 MB holds 1,048,576 rows.
  EXPECT_EQ(next_batch_rows(1000000, kMaxBatchBytes, false, FullBatch{1000000, 0, 0}), 1048576);
  EXPECT_LE(next_batch_rows(1, 1e300, false, FullBatch{INT_MAX, 1, 1}), INT_MAX / 2);
  EXPECT_EQ(next_batch_rows(5, kMaxBatchBytes, false, FullBatch{0, 0, -1}), 5);
}

TEST(FetchBatch, ACallsConnectionsShareSixteenMegabytes) {
  EXPECT_EQ(batch_bytes_for(0), kMaxBatchBytes);
  EXPECT_EQ(batch_bytes_for(2), kMaxBatchBytes);
  EXPECT_EQ(batch_bytes_for(16), kMaxBatchBytes);
  EXPECT_DOUBLE_EQ(batch_bytes_for(40), 16.0 * 1024 * 1024 / 40);
  EXPECT_DOUBLE_EQ(batch_bytes_for(1000), 16.0 * 1024 * 1024 / 1000);
}
