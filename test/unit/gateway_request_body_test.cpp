// The endpoints' JSON bodies: what is accepted, and each malformed body refused naming its field, with limits on
// nesting, length, list size and UTF-8.
#include <gtest/gtest.h>

#include "gateway/request_body.hpp"

using namespace multidb::gateway;
using nlohmann::json;

namespace {
std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const BodyError& e) {
    return e.field().empty() ? "(body)" : e.field();
  }
  return "(accepted)";
}
}  // namespace

TEST(GatewayRequestBody, ParsesObjectsWithLimits) {
  EXPECT_TRUE(parse_object("").is_object());
  EXPECT_EQ(parse_object("{\"a\": 1}")["a"], 1);
  EXPECT_EQ(field_of([] { parse_object("[1]"); }), "(body)");
  EXPECT_EQ(field_of([] { parse_object("{\"a\":"); }), "(body)");
  EXPECT_EQ(field_of([] { parse_object(std::string(40, '[') + std::string(40, ']')); }), "(body)");
  EXPECT_EQ(field_of([] { parse_object("{\"a\": " + std::string(20, '[') + std::string(20, ']') + "}"); }), "(accepted)");
  EXPECT_EQ(field_of([] { parse_object("{\"a\": \"\xff\"}"); }), "(body)");
  EXPECT_EQ(field_of([] { parse_object("{\"a\": \"\xed\xa0\x80\"}"); }), "(body)");  // a surrogate
  EXPECT_EQ(field_of([] { parse_object("{\"a\": \"\xc3\"}"); }), "(body)");          // cut short
  EXPECT_EQ(parse_object("{\"a\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}")["a"], "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // A number too large for a double is bad input, not the gateway failing (found by fuzz_gateway_request).
  EXPECT_EQ(field_of([] { parse_object("{\"n\": 1e9999}"); }), "(body)");
  EXPECT_EQ(field_of([] { parse_object("{\"n\": -1e400}"); }), "(body)");
  // An integer beyond 64 bits is read as a double; one within a double's range is accepted.
  EXPECT_EQ(field_of([] { parse_object("{\"n\": 123456789012345678901234567890}"); }), "(accepted)");
}

TEST(GatewayRequestBody, CreateSession) {
  auto s = parse_create_session(json::parse(R"({"name": "Analysis", "connection_ids": [1, 2, "shop", "@eu", "3"]})"));
  EXPECT_EQ(s.name, "Analysis");
  ASSERT_EQ(s.connections.size(), 5u);
  EXPECT_EQ(s.connections[0].id, 1);
  EXPECT_EQ(s.connections[2].name, "shop");
  EXPECT_EQ(s.connections[3].name, "@eu");
  EXPECT_EQ(s.connections[4].id, 3);  // an id given as a string
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"name": "x"})")); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"connection_ids": []})")); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"connection_ids": [true]})")); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"connection_ids": [0]})")); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"connection_ids": "shop"})")); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json::parse(R"({"name": 5, "connection_ids": [1]})")); }), "name");
  json many = {{"connection_ids", json::array()}};
  for (int i = 0; i < 1001; i++) many["connection_ids"].push_back("c");
  EXPECT_EQ(field_of([&] { parse_create_session(many); }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_create_session(json{{"name", std::string(201, 'x')}, {"connection_ids", {1}}}); }), "name");
}

TEST(GatewayRequestBody, Ask) {
  auto a = parse_ask(json::parse(R"({"question": "Compare", "chat_session_id": "0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1aa"})"), false);
  EXPECT_EQ(a.question, "Compare");
  EXPECT_TRUE(a.session);
  EXPECT_FALSE(a.connections);
  a = parse_ask(json::parse(R"({"question": "Show all products", "connection_ids": [1, 2, 3]})"), false);
  ASSERT_TRUE(a.connections);
  EXPECT_EQ(a.connections->size(), 3u);
  EXPECT_EQ(field_of([] { parse_ask(json::parse(R"({"connection_ids": [1]})"), false); }), "question");
  EXPECT_EQ(field_of([] { parse_ask(json::parse(R"({"question": "  "})"), false); }), "question");
  EXPECT_EQ(field_of([] { parse_ask(json::parse(R"({"question": "q", "chat_session_id": "abc-123"})"), false); }),
            "chat_session_id");
  EXPECT_EQ(field_of([] {
              parse_ask(json::parse(R"({"question": "q", "chat_session_id": "0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1aa",
                                         "connection_ids": [1]})"), false);
            }), "connection_ids");
  EXPECT_EQ(field_of([] { parse_ask(json{{"question", std::string(100001, 'q')}}, false); }), "question");
  EXPECT_EQ(field_of([] { parse_ask(json{{"question", std::string("a\0b", 3)}}, false); }), "question");
  // In a session the seed's "content" is the question.
  EXPECT_EQ(parse_ask(json::parse(R"({"role": "user", "content": "How many?"})"), true).question, "How many?");
}

TEST(GatewayRequestBody, PatchAndSignIn) {
  auto p = parse_patch_session(json::parse(R"({"name": "New", "attach": ["b"], "detach": [1]})"));
  EXPECT_EQ(*p.name, "New");
  EXPECT_EQ(p.attach.size(), 1u);
  EXPECT_EQ(p.detach[0].id, 1);
  EXPECT_TRUE(parse_patch_session(json::parse(R"({"connection_ids": ["a"]})")).connections);
  EXPECT_EQ(field_of([] { parse_patch_session(json::parse("{}")); }), "(body)");
  EXPECT_EQ(field_of([] { parse_patch_session(json::parse(R"({"name": ""})")); }), "name");
  auto s = parse_sign_in(json::parse(R"({"role": "alice", "password": "pw"})"));
  EXPECT_EQ(s.role, "alice");
  EXPECT_EQ(parse_sign_in(json::parse(R"({"username": "bob", "password": "pw"})")).role, "bob");
  EXPECT_EQ(field_of([] { parse_sign_in(json::parse(R"({"role": "alice"})")); }), "password");
  EXPECT_TRUE(is_uuid("0B9A5C9E-1c55-4d43-9c7e-2a3a41b8f1aa"));
  EXPECT_FALSE(is_uuid("abc-123"));
  EXPECT_FALSE(is_uuid("0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1a'"));
}
