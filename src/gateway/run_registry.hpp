// The asks multidb-web is streaming right now, pure: each has a random run id, the role that started it and a
// cancel flag that its stream checks; concurrent requests per role are counted against --per-role-limit, and
// open streams against --max-streams. A slot is held by a shared_ptr and given back when the last copy goes.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace multidb::gateway {

struct Run {
  std::string id, role;
  std::atomic<bool> cancel{false};
};

class RunRegistry {
 public:
  RunRegistry(int per_role_limit, int max_streams) : per_role_limit_(per_role_limit), max_streams_(max_streams) {}

  // A request slot of role, or nullptr when role already has per_role_limit requests in flight.
  std::shared_ptr<void> request_slot(const std::string& role);
  // A stream slot, or nullptr when max_streams streams are open.
  std::shared_ptr<void> stream_slot();
  // Registers a run of role under a new random id; it is forgotten when the returned pointer's last copy goes.
  std::shared_ptr<Run> start(const std::string& role);
  // Sets the cancel flag of run id if role started it; false (as if it did not exist) otherwise.
  bool cancel(const std::string& id, const std::string& role);
  int requests_of(const std::string& role);

 private:
  int per_role_limit_, max_streams_;
  std::mutex mutex_;
  std::map<std::string, int> requests_;
  int streams_ = 0;
  std::map<std::string, std::weak_ptr<Run>> runs_;
};

}  // namespace multidb::gateway
