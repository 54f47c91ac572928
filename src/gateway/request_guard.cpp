// Basic credentials, the session cookie, and the cross-site decision.
#include "gateway/request_guard.hpp"

#include <cctype>

namespace multidb::gateway {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> base64_decode(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        pad++;
        continue;
      }
      if (pad) return std::nullopt;
      v[k] = base64_value(c);
      if (v[k] < 0) return std::nullopt;
    }
    unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<BasicCredentials> parse_basic(const std::string& authorization) {
  if (authorization.size() < 6 || lower(authorization.substr(0, 6)) != "basic ") return std::nullopt;
  size_t start = authorization.find_first_not_of(' ', 6);
  if (start == std::string::npos) return std::nullopt;
  std::string encoded = authorization.substr(start);
  while (!encoded.empty() && encoded.back() == ' ') encoded.pop_back();
  std::optional<std::string> decoded = base64_decode(encoded);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  if (decoded->find('\0') != std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string cookie_value(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(pos, end - pos);
    size_t first = pair.find_first_not_of(' ');
    if (first != std::string::npos) {
      pair = pair.substr(first);
      size_t eq = pair.find('=');
      if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
    pos = end + 1;
  }
  return "";
}

std::string cross_site_refusal(const OriginCheck& r) {
  const std::string method = r.method;
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return "";
  // A browser says where a request comes from; a page of another site may not change anything here, however
  // the caller signed in (a browser also replays Basic credentials and sends trust-local requests).
  const std::string site = lower(r.sec_fetch_site);
  if (!site.empty() && site != "same-origin" && site != "none")
    return "a cross-site request (Sec-Fetch-Site: " + r.sec_fetch_site + ") may not change anything";
  if (!r.origin.empty()) {
    const std::string own = std::string(r.tls ? "https://" : "http://") + lower(r.host);
    if (lower(r.origin) != own)
      return "a request from origin " + r.origin + " may not change anything here (this is " + own + ")";
    return "";
  }
  if (!site.empty()) return "";  // same-origin or typed by the user, without an Origin
  // Neither header: not a current browser's request (curl, a program) — unless the caller's proof is one a
  // browser attaches by itself (the cookie), where the CSRF header is asked for.
  if (r.auth == AuthKind::kCookie && !r.csrf_header)
    return "a state-changing request of a browser session needs an Origin header or X-Multidb-CSRF";
  return "";
}

std::string session_cookie(const std::string& token, long max_age_s, bool tls) {
  std::string cookie = std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(max_age_s);
  if (tls) cookie += "; Secure";
  return cookie;
}

}  // namespace multidb::gateway
