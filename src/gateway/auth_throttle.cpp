// Failed sign-ins per client address, and the extra wait they earn.
#include "gateway/auth_throttle.hpp"

#include <algorithm>

namespace multidb::gateway {

void AuthThrottle::record_failure(const std::string& address, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failures_.size() >= policy_.max_addresses && failures_.find(address) == failures_.end()) {
    for (auto it = failures_.begin(); it != failures_.end();)
      it = now - it->second.last > policy_.window ? failures_.erase(it) : std::next(it);
    if (failures_.size() >= policy_.max_addresses) {
      auto oldest = std::min_element(failures_.begin(), failures_.end(),
                                     [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
      failures_.erase(oldest);
    }
  }
  Failures& f = failures_[address];
  if (f.count > 0 && now - f.last > policy_.window) f.count = 0;
  f.count = std::min(f.count + 1, 1000);
  f.last = now;
}

void AuthThrottle::record_success(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  failures_.erase(address);
}

std::chrono::milliseconds AuthThrottle::extra_delay(const std::string& address, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = failures_.find(address);
  if (it == failures_.end() || now - it->second.last > policy_.window) return std::chrono::milliseconds(0);
  int past = it->second.count - policy_.free_failures;
  if (past <= 0) return std::chrono::milliseconds(0);
  long long extra = policy_.first_extra.count();
  for (int i = 1; i < past && extra < policy_.max_extra.count(); i++) extra *= 2;
  return std::chrono::milliseconds(std::min<long long>(extra, policy_.max_extra.count()));
}

}  // namespace multidb::gateway
