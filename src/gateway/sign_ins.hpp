// Browser sign-ins kept in the coordinator's table multidb.web_sign_ins, not in this process: opened at sign-in,
// looked up on each cookie request, ended at sign-out, each through the authenticator's own short transaction
// (never inside a caller's role). Nothing is cached, so a sign-out at any gateway ends the sign-in at every
// gateway at once, and a restarted gateway forgets none.
#pragma once

#include <optional>
#include <string>

#include "gateway/coordinator.hpp"

namespace multidb::gateway {

class SignIns {
 public:
  SignIns(Coordinator& db, long ttl_s) : db_(db), ttl_s_(ttl_s) {}

  // A new sign-in of role for the --session-ttl; returns its token (for the cookie only: the coordinator keeps
  // its SHA-256).
  std::string open(const std::string& role);
  // The role of a live sign-in (by the coordinator's clock), or nullopt: malformed, unknown, expired, ended, or
  // of a role that may no longer sign in here.
  std::optional<std::string> role_of(const std::string& token);
  // Sign-out: the sign-in ends everywhere.
  void end(const std::string& token);

 private:
  Coordinator& db_;
  long ttl_s_;
};

}  // namespace multidb::gateway
