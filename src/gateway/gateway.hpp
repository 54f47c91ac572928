// What every route of multidb-web shares: the options, the coordinator pool, the browser sign-ins (kept in the
// coordinator's table), the failed-sign-in throttle; who the caller is (Basic, the session cookie, or --trust-local); and the wrapper
// that turns a route's JSON answer or its error into the HTTP response.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gateway/auth_throttle.hpp"
#include "gateway/coordinator.hpp"
#include "gateway/options.hpp"
#include "gateway/request_guard.hpp"
#include "gateway/run_registry.hpp"
#include "gateway/sign_ins.hpp"

namespace multidb::gateway {

struct Caller {
  std::string role;
  AuthKind kind = AuthKind::kNone;
  std::shared_ptr<void> slot;  // the role's request slot (--per-role-limit), held while a copy lives
};

// A route's answer: status and JSON body (a null body with 204 sends nothing).
struct Reply {
  Reply(int status_ = 200, nlohmann::json body_ = nullptr) : status(status_), body(std::move(body_)) {}
  int status = 200;
  nlohmann::json body;
  // Set by a route that streams: it fills the response (headers, a chunked content provider) instead of body.
  std::function<void(httplib::Response&)> stream;
};

class Gateway {
 public:
  explicit Gateway(const Options& options);

  const Options& options() const { return options_; }
  Coordinator& db() { return db_; }
  SignIns& sign_ins() { return sign_ins_; }
  RunRegistry& runs() { return runs_; }
  bool tls() const { return !options_.tls_cert.empty(); }

  // The caller of a request that needs one: 401 (with WWW-Authenticate) without credentials or with wrong ones
  // (after the fixed delay and the address's extra wait), 403 for a role that may not sign in here.
  Caller authenticate(const httplib::Request& request);
  // Checks role's password by logging in to the coordinator as that role (and out again), then that the role
  // may sign in here; the same 401 after the same delay for a wrong password and a role that does not exist.
  void verify_password(const std::string& role, const std::string& password, const std::string& address);
  // 403 for a state-changing request a page of another site made.
  void check_origin(const httplib::Request& request, AuthKind kind);
  // 403 unless role may sign in here: a member of multidb_web, granted to the authenticator, not a superuser.
  void check_may_sign_in(const std::string& role);

  // Registers method+path: the route gets the caller (when needs_caller) and the request.
  using Handler = std::function<Reply(const Caller&, const httplib::Request&)>;
  // A route with counted = false (cancelling a run) is not held to --per-role-limit: a role at its limit can
  // still stop one of its asks.
  void route(httplib::Server& server, const std::string& method, const std::string& pattern, bool needs_caller,
             Handler handler, bool counted = true);
  // Registers a route that writes its own response (sign-in's cookie, the API page's files), listed as well.
  void raw_route(httplib::Server& server, const std::string& method, const std::string& pattern,
                 httplib::Server::Handler handler);
  void install(httplib::Server& server);
  // Every route registered so far: method and path pattern (a regular expression), in order (--print-routes).
  const std::vector<std::pair<std::string, std::string>>& routes() const { return routes_; }

 private:
  Options options_;
  Coordinator db_;
  SignIns sign_ins_;
  AuthThrottle throttle_;
  std::vector<std::pair<std::string, std::string>> routes_;
  RunRegistry runs_;
};

// Writes an error body {"error": {...}} with its status.
void write_error(httplib::Response& response, int status, const nlohmann::json& body);

struct Ask;
// An ask as the caller (routes_ask.cpp): multidb.ask, then its history row; the seed's multi-query answer
// (the plain answer; ask_stream.hpp has the one that streams progress).
nlohmann::json run_ask(Gateway& gateway, const Caller& caller, const Ask& ask);

// The routes, one file each.
void install_auth_routes(httplib::Server& server, Gateway& gateway);
void install_session_routes(httplib::Server& server, Gateway& gateway);
void install_ask_routes(httplib::Server& server, Gateway& gateway);
void install_connection_routes(httplib::Server& server, Gateway& gateway);
void install_query_routes(httplib::Server& server, Gateway& gateway);
void install_history_routes(httplib::Server& server, Gateway& gateway);
void install_result_routes(httplib::Server& server, Gateway& gateway);
void install_group_routes(httplib::Server& server, Gateway& gateway);
void install_compare_routes(httplib::Server& server, Gateway& gateway);
void install_build_routes(httplib::Server& server, Gateway& gateway);
void install_report_routes(httplib::Server& server, Gateway& gateway);
void install_view_routes(httplib::Server& server, Gateway& gateway);
void install_api_doc_routes(httplib::Server& server, Gateway& gateway);
void install_ui_routes(httplib::Server& server, Gateway& gateway);
void install_run_routes(httplib::Server& server, Gateway& gateway);

}  // namespace multidb::gateway
