// Who a request comes from and whether a browser may make it: the Authorization header's Basic credentials,
// the session cookie, and the same-origin (CSRF) decision for state-changing requests. Pure.
#pragma once

#include <optional>
#include <string>

namespace multidb::gateway {

struct BasicCredentials {
  std::string role;
  std::string password;
};

// "Basic <base64 role:password>" -> the pair; nullopt when the header is not well-formed Basic.
std::optional<BasicCredentials> parse_basic(const std::string& authorization);

// The value of cookie name in a Cookie header, or "".
std::string cookie_value(const std::string& cookie_header, const std::string& name);

// How the caller proved who it is.
enum class AuthKind { kNone, kBasic, kCookie, kTrustLocal };

struct OriginCheck {
  std::string method;           // "POST"
  AuthKind auth = AuthKind::kNone;
  std::string origin;           // Origin header, "" if none
  std::string sec_fetch_site;   // Sec-Fetch-Site header, "" if none
  std::string host;             // Host header
  bool tls = false;
  bool csrf_header = false;     // X-Multidb-CSRF present (a cross-site page cannot send it without CORS)
};

// "" if the request may go on; otherwise why it is refused (403).
std::string cross_site_refusal(const OriginCheck& request);

// The Set-Cookie value of a sign-in (max_age_s 0: the cookie that ends it).
std::string session_cookie(const std::string& token, long max_age_s, bool tls);

constexpr const char* kSessionCookie = "multidb_session";

}  // namespace multidb::gateway
