// Sign-ins without waiting: the sign-in token (random, recognised, hashed for the coordinator's table), the
// failed-sign-in throttle per address, Basic credentials and cookies, and the cross-site decision for
// state-changing requests.
#include <gtest/gtest.h>

#include <set>

#include "gateway/auth_throttle.hpp"
#include "gateway/request_guard.hpp"
#include "gateway/sign_in_token.hpp"

using namespace multidb::gateway;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(GatewaySignInToken, TokensAreRandomAndLong) {
  std::set<std::string> tokens;
  for (int i = 0; i < 100; i++) {
    std::string token = new_session_token();
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 100u);
}

TEST(GatewaySignInToken, OnlyWhatNewSessionTokenMakesIsAToken) {
  EXPECT_TRUE(is_session_token(new_session_token()));
  EXPECT_TRUE(is_session_token(std::string(64, 'a')));
  EXPECT_FALSE(is_session_token(""));
  EXPECT_FALSE(is_session_token(std::string(63, 'a')));
  EXPECT_FALSE(is_session_token(std::string(65, 'a')));
  EXPECT_FALSE(is_session_token(std::string(64, 'A')));  // new_session_token writes lowercase
  EXPECT_FALSE(is_session_token(std::string(63, 'a') + "g"));
  EXPECT_FALSE(is_session_token(std::string(63, 'a') + "'"));
  EXPECT_FALSE(is_session_token(std::string(63, 'a') + std::string(1, '\0')));
}

// The coordinator keeps sha256 of the token's text; Postgres computes the same:
// SELECT sha256(convert_to('abc', 'UTF8')) is \xba7816bf…, FIPS 180-2's test vector.
TEST(GatewaySignInToken, TheCoordinatorGetsTheSha256AsAByteaParameter) {
  EXPECT_EQ(token_hash_param("abc"), "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(token_hash_param(""), "\\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string token = new_session_token();
  const std::string hashed = token_hash_param(token);
  EXPECT_EQ(hashed.size(), 2u + 64u);
  EXPECT_EQ(hashed.find(token), std::string::npos);  // the token itself never reaches the coordinator
  EXPECT_EQ(token_hash_param(token), hashed);
  EXPECT_NE(token_hash_param(new_session_token()), hashed);
}

TEST(GatewayAuthThrottle, RepeatedFailuresOfOneAddressAreSlowed) {
  AuthThrottle::Policy policy;
  policy.free_failures = 2;
  policy.first_extra = milliseconds(100);
  policy.max_extra = milliseconds(1000);
  policy.window = seconds(60);
  AuthThrottle throttle(policy);
  auto t = AuthThrottle::Clock::now();
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(0));
  throttle.record_failure("1.2.3.4", t);
  throttle.record_failure("1.2.3.4", t);
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(0));
  throttle.record_failure("1.2.3.4", t);
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(100));
  throttle.record_failure("1.2.3.4", t);
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(200));
  for (int i = 0; i < 50; i++) throttle.record_failure("1.2.3.4", t);
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(1000));  // capped
  EXPECT_EQ(throttle.extra_delay("5.6.7.8", t), milliseconds(0));     // another address is not slowed
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t + seconds(61)), milliseconds(0));  // the window passed
  throttle.record_success("1.2.3.4");
  EXPECT_EQ(throttle.extra_delay("1.2.3.4", t), milliseconds(0));
}

TEST(GatewayAuthThrottle, KeepsBoundedAddresses) {
  AuthThrottle::Policy policy;
  policy.max_addresses = 10;
  policy.free_failures = 0;
  AuthThrottle throttle(policy);
  auto t = AuthThrottle::Clock::now();
  for (int i = 0; i < 1000; i++) throttle.record_failure("10.0.0." + std::to_string(i), t + milliseconds(i));
  EXPECT_GT(throttle.extra_delay("10.0.0.999", t + milliseconds(1000)).count(), 0);
  EXPECT_EQ(throttle.extra_delay("10.0.0.0", t + milliseconds(1000)).count(), 0);  // forgotten
}

TEST(GatewayRequestGuard, BasicCredentials) {
  auto c = parse_basic("Basic YWxpY2U6czNjcjN0");  // alice:s3cr3t
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, "alice");
  EXPECT_EQ(c->password, "s3cr3t");
  c = parse_basic("basic Ym9iOnA6dw==");  // bob:p:w — a colon in the password stays
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, "bob");
  EXPECT_EQ(c->password, "p:w");
  EXPECT_FALSE(parse_basic("Bearer abc"));
  EXPECT_FALSE(parse_basic("Basic !!!!"));
  EXPECT_FALSE(parse_basic("Basic YWxpY2U="));  // no colon
  EXPECT_FALSE(parse_basic("Basic OnB3"));      // ":pw", no role
  EXPECT_FALSE(parse_basic("Basic "));
  EXPECT_FALSE(parse_basic("Basic YQ=b"));
}

TEST(GatewayRequestGuard, Cookies) {
  EXPECT_EQ(cookie_value("a=1; multidb_session=abc; b=2", "multidb_session"), "abc");
  EXPECT_EQ(cookie_value("multidb_session=xyz", "multidb_session"), "xyz");
  EXPECT_EQ(cookie_value("xmultidb_session=no", "multidb_session"), "");
  EXPECT_EQ(cookie_value("", "multidb_session"), "");
  const std::string set = session_cookie("tok", 600, false);
  EXPECT_NE(set.find("multidb_session=tok"), std::string::npos);
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set.find("Secure"), std::string::npos);
  EXPECT_NE(session_cookie("tok", 600, true).find("; Secure"), std::string::npos);
}

TEST(GatewayRequestGuard, CrossSiteRequestsMayNotChangeAnything) {
  OriginCheck r;
  r.host = "127.0.0.1:8080";
  r.method = "POST";
  r.auth = AuthKind::kCookie;
  r.origin = "http://127.0.0.1:8080";
  EXPECT_EQ(cross_site_refusal(r), "");
  r.origin = "http://evil.example";
  EXPECT_NE(cross_site_refusal(r), "");
  r.origin = "null";
  EXPECT_NE(cross_site_refusal(r), "");
  r.origin = "";
  r.sec_fetch_site = "cross-site";
  EXPECT_NE(cross_site_refusal(r), "");
  r.sec_fetch_site = "same-site";
  EXPECT_NE(cross_site_refusal(r), "");
  r.sec_fetch_site = "same-origin";
  EXPECT_EQ(cross_site_refusal(r), "");
  // A cookie without either header needs the CSRF header; a program with Basic does not.
  r.sec_fetch_site = "";
  EXPECT_NE(cross_site_refusal(r), "");
  r.csrf_header = true;
  EXPECT_EQ(cross_site_refusal(r), "");
  r.csrf_header = false;
  r.auth = AuthKind::kBasic;
  EXPECT_EQ(cross_site_refusal(r), "");
  // Basic and trust-local from another site's page are refused too (a browser attaches both by itself).
  r.origin = "http://evil.example";
  EXPECT_NE(cross_site_refusal(r), "");
  r.auth = AuthKind::kTrustLocal;
  EXPECT_NE(cross_site_refusal(r), "");
  // Reading is never refused here.
  r.method = "GET";
  EXPECT_EQ(cross_site_refusal(r), "");
  // Over TLS the own origin is https.
  r.method = "DELETE";
  r.tls = true;
  r.origin = "http://127.0.0.1:8080";
  EXPECT_NE(cross_site_refusal(r), "");
  r.origin = "https://127.0.0.1:8080";
  EXPECT_EQ(cross_site_refusal(r), "");
}
