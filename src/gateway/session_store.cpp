// Browser sign-ins kept in memory: token -> role with an expiry, bounded.
#include "gateway/session_store.hpp"

#include <sys/random.h>

#include <stdexcept>

namespace multidb::gateway {

void SessionStore::add(const std::string& token, const std::string& role, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sessions_.size() >= max_sessions_) evict(now);
  sessions_[token] = Entry{role, now + ttl_};
}

void SessionStore::evict(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  while (sessions_.size() >= max_sessions_ && !sessions_.empty()) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.expires < oldest->second.expires) oldest = it;
    sessions_.erase(oldest);
  }
}

std::optional<std::string> SessionStore::role_of(const std::string& token, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.role;
}

bool SessionStore::remove(const std::string& token) {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.erase(token) > 0;
}

size_t SessionStore::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

std::string new_session_token() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) throw std::runtime_error("the OS gave no random bytes for a session token");
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

}  // namespace multidb::gateway
