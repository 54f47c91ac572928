// Runs in flight, their cancel flags, and the per-role and per-stream slots.
#include "gateway/run_registry.hpp"

#include <random>

namespace multidb::gateway {

std::shared_ptr<void> RunRegistry::request_slot(const std::string& role) {
  std::lock_guard<std::mutex> lock(mutex_);
  int& count = requests_[role];
  if (count >= per_role_limit_) {
    if (count == 0) requests_.erase(role);
    return nullptr;
  }
  count++;
  return std::shared_ptr<void>(static_cast<void*>(this), [this, role](void*) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = requests_.find(role);
    if (it != requests_.end() && --it->second <= 0) requests_.erase(it);
  });
}

std::shared_ptr<void> RunRegistry::stream_slot() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (streams_ >= max_streams_) return nullptr;
  streams_++;
  return std::shared_ptr<void>(static_cast<void*>(this), [this](void*) {
    std::lock_guard<std::mutex> lock(mutex_);
    streams_--;
  });
}

std::shared_ptr<Run> RunRegistry::start(const std::string& role) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static const char* const kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; i++) id += kHex[random() & 15];
  auto run = std::shared_ptr<Run>(new Run, [this](Run* r) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      runs_.erase(r->id);
    }
    delete r;
  });
  run->id = id;
  run->role = role;
  std::lock_guard<std::mutex> lock(mutex_);
  runs_[id] = run;
  return run;
}

bool RunRegistry::cancel(const std::string& id, const std::string& role) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return false;
  std::shared_ptr<Run> run = it->second.lock();
  if (!run || run->role != role) return false;
  run->cancel = true;
  return true;
}

int RunRegistry::requests_of(const std::string& role) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = requests_.find(role);
  return it == requests_.end() ? 0 : it->second;
}

}  // namespace multidb::gateway
