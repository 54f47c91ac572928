// Browser sign-ins: random tokens -> role, kept in memory with an expiry, bounded in number. Thread-safe; the
// clock is passed in so that tests need not wait. Holds no password and no hash of one.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace multidb::gateway {

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  SessionStore(std::chrono::seconds ttl, size_t max_sessions) : ttl_(ttl), max_sessions_(max_sessions) {}

  // Keeps token for role until now + ttl. When full, expired sign-ins go first, then the oldest.
  void add(const std::string& token, const std::string& role, Clock::time_point now);
  // The role of a live token, or nullopt (unknown or expired; an expired one is forgotten).
  std::optional<std::string> role_of(const std::string& token, Clock::time_point now);
  // Sign-out: true if the token was live.
  bool remove(const std::string& token);
  size_t size();

 private:
  struct Entry {
    std::string role;
    Clock::time_point expires;
  };
  void evict(Clock::time_point now);
  std::chrono::seconds ttl_;
  size_t max_sessions_;
  std::mutex mutex_;
  std::map<std::string, Entry> sessions_;
};

// A new token: 32 random bytes from the OS, as 64 hex digits.
std::string new_session_token();

}  // namespace multidb::gateway
