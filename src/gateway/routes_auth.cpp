// Browser sign-in and sign-out: POST /api/auth/login checks the role's password with Postgres and sets the
// session cookie (the sign-in kept in the coordinator's table); POST /api/auth/logout ends it on every gateway;
// GET /api/auth/me says who the caller is.
#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

using nlohmann::json;

void install_auth_routes(httplib::Server& server, Gateway& gateway) {
  gateway.raw_route(server, "POST", "/api/auth/login", [&gateway](const httplib::Request& request, httplib::Response& response) {
    try {
      gateway.check_origin(request, AuthKind::kNone);
      SignIn sign_in = parse_sign_in(parse_object(request.body));
      gateway.verify_password(sign_in.role, sign_in.password, request.remote_addr);
      const std::string token = gateway.sign_ins().open(sign_in.role);
      response.set_header("Set-Cookie", session_cookie(token, gateway.options().session_ttl_s, gateway.tls()));
      response.set_header("Cache-Control", "no-store");
      response.set_content(json{{"role", sign_in.role}, {"expires_in", gateway.options().session_ttl_s}}.dump(),
                           "application/json");
    } catch (const ApiError& e) {
      write_error(response, e.status, e.body());
    } catch (const BodyError& e) {
      ApiError error(400, e.what());
      error.field = e.field();
      write_error(response, 400, error.body());
    }
  });
  gateway.route(server, "POST", "/api/auth/logout", true, [&gateway](const Caller& caller, const httplib::Request& request) {
    if (caller.kind == AuthKind::kCookie)
      gateway.sign_ins().end(cookie_value(request.get_header_value("Cookie"), kSessionCookie));
    return Reply{204, nullptr};
  });
  // The cookie that ends the sign-in goes out with the 204. A 401 to a page's own fetch (a browser sends
  // Sec-Fetch-Mode, "cors" or "same-origin", on those; "navigate" when the address bar asks) carries no Basic
  // challenge: with one the browser holds the request and shows its own password dialog (headless chromium never
  // completes it), so the UI's sign-in form would never see the gateway's message. curl and scripts send no
  // Sec-Fetch-Mode and keep the challenge.
  server.set_post_routing_handler([&gateway](const httplib::Request& request, httplib::Response& response) {
    if (request.path == "/api/auth/logout" && response.status == 204)
      response.set_header("Set-Cookie", session_cookie("", 0, gateway.tls()));
    const std::string mode = request.get_header_value("Sec-Fetch-Mode");
    if (response.status == 401 && !mode.empty() && mode != "navigate") response.headers.erase("WWW-Authenticate");
  });
  gateway.route(server, "GET", "/api/auth/me", true, [](const Caller& caller, const httplib::Request&) {
    static const char* kKinds[] = {"none", "basic", "cookie", "trust-local"};
    return Reply{200, json{{"role", caller.role}, {"auth", kKinds[static_cast<int>(caller.kind)]}}};
  });
}

}  // namespace multidb::gateway
