// How many rows a remote cursor's next FETCH asks for (fetch_batch.hpp): the policy, apart from the libpq calls that
// give its facts and send the FETCH (fanout/remote.cpp).
#include "core/fetch_batch.hpp"

#include "core/cpp_only.hpp"

#include <algorithm>
#include <climits>

namespace multidb {

double batch_bytes_for(int connections) noexcept {
  return std::min(kMaxBatchBytes, kAllBatchesBytes / std::max(connections, 1));
}

int next_batch_rows(int fetch_size, double batch_bytes, bool first_batch, FullBatch last) noexcept {
  if (first_batch) return fetch_size;
  double rows = std::max(last.rows, 1);
  double row_bytes = std::max(last.result_bytes / rows, 1.0);
  double fitting =
      std::min({batch_bytes / row_bytes, rows * kBatchGrowth, rows * kBatchPaceUs / std::max(last.took_us, 1.0)});
  return std::max(fetch_size, static_cast<int>(std::min(fitting, static_cast<double>(INT_MAX / 2))));
}

}  // namespace multidb
