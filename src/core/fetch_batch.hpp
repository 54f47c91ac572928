// How many rows a remote cursor's next FETCH asks for. Batches grow while their rows are small and quick: each FETCH
// costs the remote an executor run and the coordinator a PGresult, and the two wait for each other at each one (a
// million narrow rows in batches of 1,000 spent about a sixth of their time so: docs/benchmarks.md, section (p)).
// Memory stays bounded: a batch takes at most the larger of fetch_size rows and its connection's share of
// kAllBatchesBytes; a statement whose rows trickle keeps fetch_size batches, so its rows and their progress events
// (at most every second) come as before. fanout/remote.cpp sends the FETCHes.
#pragma once

namespace multidb {

constexpr double kMaxBatchBytes = 1024.0 * 1024.0;        // one connection's batch, at most
constexpr double kAllBatchesBytes = 16.0 * 1024 * 1024;   // all the in-backend connections of one call, together
constexpr int kBatchGrowth = 4;                           // a batch is at most this many times the last
constexpr double kBatchPaceUs = 1000000.0;                // and holds at most a second's rows at the last one's pace

// The bytes a grown batch may take on each of a call's `connections` connections: kMaxBatchBytes, or its share of
// kAllBatchesBytes (a call over two databases reads 1 MB batches, one over a thousand stays at fetch_size rows).
double batch_bytes_for(int connections) noexcept;

// A full batch just handed on: its rows, its size in libpq's memory, and the microseconds from its FETCH's send.
struct FullBatch {
  int rows;
  double result_bytes;
  double took_us;
};

// The rows of the FETCH that follows `last`: as many as fit in batch_bytes by last's size per row, at most
// kBatchGrowth times last's and a second's at its pace, never fewer than fetch_size. After the first batch it is
// fetch_size: that FETCH goes out before the caller chose the format of the ones after (binary or text), and stays
// small so that few rows come in text where binary follows.
int next_batch_rows(int fetch_size, double batch_bytes, bool first_batch, FullBatch last) noexcept;

}  // namespace multidb
