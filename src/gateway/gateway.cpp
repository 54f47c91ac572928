// The shared plumbing of multidb-web's routes: authentication, the origin check, limits, and errors as JSON.
#include "gateway/gateway.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <libpq-fe.h>

#include "gateway/api_error.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

namespace {

ApiError unauthorized(const std::string& message) {
  return ApiError(401, message,
                  "sign in with HTTP Basic (curl -u role:password) or POST /api/auth/login {\"role\", \"password\"}");
}

std::string status_message(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such endpoint";
    case 405: return "method not allowed";
    case 413: return "the request body is larger than --max-body allows";
    case 414: return "the request URI is too long";
    case 431: return "the request headers are larger than --max-header allows";
    default: return "the request failed";
  }
}

}  // namespace

void write_error(httplib::Response& response, int status, const json& body) {
  response.status = status;
  if (status == 401) response.set_header("WWW-Authenticate", "Basic realm=\"multidb\", charset=\"UTF-8\"");
  response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

Gateway::Gateway(const Options& options)
    : options_(options),
      db_(options.database, options.pool_size, std::chrono::milliseconds(options.pool_timeout_ms),
          options.connect_timeout_s, std::chrono::seconds(options.coordinator_timeout_s)),
      sign_ins_(db_, options.session_ttl_s),
      runs_(options.per_role_limit, options.max_streams) {}

void Gateway::check_may_sign_in(const std::string& role) {
  bool may = false;
  db_.as_authenticator([&](RoleTransaction& tx) {
    Rows r = tx.query(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = $1"
        " AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles g WHERE g.rolname = 'multidb_web'"
        "             AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER'))"
        " AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')"
        " AND NOT r.rolsuper) AS may",
        {role});
    may = r.at(0, "may") == std::optional<std::string>("t");
  });
  if (!may)
    throw ApiError(403, "role \"" + role + "\" may not sign in here",
                   "a role signs in through multidb-web when it is a member of multidb_web and granted to the "
                   "gateway's authenticator role: GRANT multidb_web TO " + role + "; GRANT " + role +
                   " TO <authenticator>; superusers never");
}

void Gateway::verify_password(const std::string& role, const std::string& password, const std::string& address) {
  const auto start = std::chrono::steady_clock::now();
  bool ok = false;
  if (!password.empty() && role.size() <= 63) {
    const std::string timeout = std::to_string(options_.connect_timeout_s);
    // Later keywords override what the conninfo says: this role, this password, nothing from a .pgpass.
    const char* keys[] = {"dbname", "user", "password", "passfile", "connect_timeout", "fallback_application_name", nullptr};
    const char* values[] = {options_.database.c_str(), role.c_str(), password.c_str(), "/dev/null", timeout.c_str(),
                            "multidb-web sign-in", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (conn && PQstatus(conn) == CONNECTION_OK) {
      if (PQconnectionUsedPassword(conn)) ok = true;
      else
        std::cerr << "multidb-web: sign-in of role \"" << role
                  << "\" refused: the coordinator let it in without asking for its password (pg_hba.conf trust or "
                     "peer for the gateway's connection); every sign-in needs a password check\n";
    } else if (conn && std::string(PQerrorMessage(conn)).find("password authentication failed") == std::string::npos) {
      std::cerr << "multidb-web: sign-in of role \"" << role << "\" failed: " << PQerrorMessage(conn);
      // The coordinator could not be reached (down, frozen past --connect-timeout): that is no wrong password.
      // Said the same for every role, so it tells nothing about which roles exist.
      const std::string why = PQerrorMessage(conn);
      if (why.find("timeout expired") != std::string::npos || why.find("Connection refused") != std::string::npos ||
          why.find("No such file or directory") != std::string::npos ||
          why.find("the database system is") != std::string::npos) {
        PQfinish(conn);
        throw ApiError(503, "the coordinator database does not answer", "try again shortly; the gateway reconnects by itself",
                       "08006", "signing in needs the coordinator to check the password");
      }
    }
    if (conn) PQfinish(conn);
  }
  if (!ok) {
    const auto wait = std::chrono::milliseconds(options_.auth_delay_ms) + throttle_.extra_delay(address, start);
    throttle_.record_failure(address, start);
    std::this_thread::sleep_until(start + wait);
    throw unauthorized("wrong role or password");
  }
  throttle_.record_success(address);
  check_may_sign_in(role);
}

void Gateway::check_origin(const httplib::Request& request, AuthKind kind) {
  OriginCheck check;
  check.method = request.method;
  check.auth = kind;
  check.origin = request.get_header_value("Origin");
  check.sec_fetch_site = request.get_header_value("Sec-Fetch-Site");
  check.host = request.get_header_value("Host");
  check.tls = tls();
  check.csrf_header = request.has_header("X-Multidb-CSRF");
  std::string refusal = cross_site_refusal(check);
  if (!refusal.empty())
    throw ApiError(403, refusal, "state-changing requests come from the gateway's own pages, or from programs "
                                 "(which send no Origin); a browser session's script sends X-Multidb-CSRF: 1");
}

Caller Gateway::authenticate(const httplib::Request& request) {
  Caller caller;
  if (request.has_header("Authorization")) {
    std::optional<BasicCredentials> basic = parse_basic(request.get_header_value("Authorization"));
    if (!basic) throw unauthorized("the Authorization header is not HTTP Basic credentials");
    verify_password(basic->role, basic->password, request.remote_addr);
    caller = Caller{basic->role, AuthKind::kBasic, nullptr};
  } else if (std::string token = cookie_value(request.get_header_value("Cookie"), kSessionCookie); !token.empty()) {
    std::optional<std::string> role = sign_ins_.role_of(token);
    if (!role) throw unauthorized("the sign-in has expired or ended");
    caller = Caller{*role, AuthKind::kCookie, nullptr};
  } else if (!options_.trust_local.empty()) {
    caller = Caller{options_.trust_local, AuthKind::kTrustLocal, nullptr};
  } else {
    throw unauthorized("sign in first");
  }
  check_origin(request, caller.kind);
  return caller;
}

void Gateway::route(httplib::Server& server, const std::string& method, const std::string& pattern, bool needs_caller,
                    Handler handler, bool counted) {
  routes_.emplace_back(method, pattern);
  auto wrapped = [this, needs_caller, handler, counted](const httplib::Request& request, httplib::Response& response) {
    try {
      Caller caller;
      if (needs_caller) {
        caller = authenticate(request);
        if (counted) caller.slot = runs_.request_slot(caller.role);
        if (counted && !caller.slot)
          throw ApiError(429, "role \"" + caller.role + "\" has too many requests in flight",
                         "wait for one to finish; the gateway allows " + std::to_string(options_.per_role_limit) +
                             " at once per role (--per-role-limit)",
                         "53300");
      } else {
        check_origin(request, AuthKind::kNone);
      }
      Reply reply = handler(caller, request);
      response.status = reply.status;
      if (reply.stream)
        reply.stream(response);
      else if (reply.status != 204)
        response.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    } catch (const ApiError& e) {
      write_error(response, e.status, e.body());
    } catch (const BodyError& e) {
      ApiError error(400, e.what(), "see the endpoint's fields in the README's \"Over HTTP\"");
      error.field = e.field();
      write_error(response, 400, error.body());
    } catch (const std::exception& e) {
      std::cerr << "multidb-web: " << request.method << " " << request.path << ": " << e.what() << "\n";
      write_error(response, 500, ApiError(500, "the gateway failed on this request", "", "", e.what()).body());
    }
  };
  if (method == "GET") server.Get(pattern, wrapped);
  else if (method == "POST") server.Post(pattern, wrapped);
  else if (method == "PATCH") server.Patch(pattern, wrapped);
  else if (method == "DELETE") server.Delete(pattern, wrapped);
  else if (method == "PUT") server.Put(pattern, wrapped);
}

void Gateway::raw_route(httplib::Server& server, const std::string& method, const std::string& pattern,
                        httplib::Server::Handler handler) {
  routes_.emplace_back(method, pattern);
  if (method == "GET") server.Get(pattern, std::move(handler));
  else if (method == "POST") server.Post(pattern, std::move(handler));
}

void Gateway::install(httplib::Server& server) {
  const size_t max_header = options_.max_header_bytes;
  server.set_pre_routing_handler([max_header](const httplib::Request& request, httplib::Response& response) {
    size_t total = 0;
    for (const auto& header : request.headers) total += header.first.size() + header.second.size() + 4;
    if (total > max_header) {
      write_error(response, 431, ApiError(431, status_message(431)).body());
      return httplib::Server::HandlerResponse::Handled;
    }
    // The path (percent-decoded) and the query's values name sessions, connections and reports: text, so
    // UTF-8 like every body.
    bool utf8 = valid_utf8(request.path);
    for (const auto& param : request.params) utf8 = utf8 && valid_utf8(param.first) && valid_utf8(param.second);
    if (!utf8) {
      write_error(response, 400, ApiError(400, "the request path or query is not valid UTF-8",
                                          "percent-encode the UTF-8 bytes of names (RFC 3986)").body());
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Statuses the library sets by itself (413, 404 for an unknown path, 400 for a malformed request) get the
  // JSON body too.
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    write_error(response, response.status, ApiError(response.status, status_message(response.status)).body());
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    write_error(response, 500, ApiError(500, "the gateway failed on this request").body());
  });

  route(server, "GET", "/api/health", false, [this](const Caller&, const httplib::Request& request) {
    Reply reply;
    json body = {{"status", "ok"}, {"coordinator", "up"}};
    if (!db_.healthy()) {
      reply.status = 503;
      body = ApiError(503, "the coordinator database does not answer",
                      "try again shortly; the gateway reconnects by itself", "08006").body();
      body["status"] = "unavailable";
      body["coordinator"] = "down";
    } else if (request.has_header("Authorization") || request.has_header("Cookie") || !options_.trust_local.empty()) {
      // Who a request runs as, for clients (and tests) that want to see it.
      Caller caller = authenticate(request);
      db_.as_role(caller.role, [&body](RoleTransaction& tx) {
        Rows r = tx.query("SELECT current_user AS role, session_user AS authenticator");
        body["role"] = *r.at(0, "role");
        body["authenticator"] = *r.at(0, "authenticator");
      });
    }
    reply.body = body;
    return reply;
  });
  install_auth_routes(server, *this);
  install_session_routes(server, *this);
  install_ask_routes(server, *this);
  install_connection_routes(server, *this);
  install_query_routes(server, *this);
  install_history_routes(server, *this);
  install_result_routes(server, *this);
  install_group_routes(server, *this);
  install_compare_routes(server, *this);
  install_build_routes(server, *this);
  install_report_routes(server, *this);
  install_view_routes(server, *this);
  install_api_doc_routes(server, *this);
  install_ui_routes(server, *this);
  install_run_routes(server, *this);
}

}  // namespace multidb::gateway
