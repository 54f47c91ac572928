// Slowing down repeated failed sign-ins per client address: each failure within the window doubles the
// extra wait after the first few, up to a cap; a success clears the address. Bounded in addresses kept.
// Thread-safe; the clock is passed in.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace multidb::gateway {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  struct Policy {
    int free_failures = 3;                                   // failures answered with the base delay only
    std::chrono::milliseconds first_extra{500};              // extra wait at the first failure past those
    std::chrono::milliseconds max_extra{10000};              // at most this much extra
    std::chrono::seconds window{300};                        // failures older than this are forgotten
    size_t max_addresses = 10000;
  };
  AuthThrottle() : AuthThrottle(Policy{}) {}
  explicit AuthThrottle(Policy policy) : policy_(policy) {}

  void record_failure(const std::string& address, Clock::time_point now);
  void record_success(const std::string& address);
  // The extra wait a failed sign-in from this address gets now, on top of the fixed delay.
  std::chrono::milliseconds extra_delay(const std::string& address, Clock::time_point now);

 private:
  struct Failures {
    int count = 0;
    Clock::time_point last;
  };
  Policy policy_;
  std::mutex mutex_;
  std::map<std::string, Failures> failures_;
};

}  // namespace multidb::gateway
