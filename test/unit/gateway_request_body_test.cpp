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

TEST(GatewayRequestBody, CreateView) {
  auto v = parse_create_view(json::parse(R"({"name": "dash.sales", "sql": "SELECT 1", "connections": ["shop", 2]})"));
  EXPECT_EQ(v.name, "dash.sales");
  EXPECT_EQ(*v.sql, "SELECT 1");
  EXPECT_FALSE(v.question);
  ASSERT_TRUE(v.connections);
  EXPECT_EQ((*v.connections)[1].id, 2);
  EXPECT_EQ(v.mode, "snapshot");  // the defaults multidb.create_view_sql has
  EXPECT_EQ(v.on_drift, "fail");
  auto q = parse_create_view(json::parse(
      R"({"name": "v", "question": "How many?", "session_id": "0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1aa", "mode": "live",
          "on_drift": "evolve", "schedule": "0 6 * * *"})"));
  EXPECT_EQ(*q.question, "How many?");
  EXPECT_EQ(*q.session, "0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1aa");
  EXPECT_EQ(q.mode, "live");
  EXPECT_EQ(q.on_drift, "evolve");
  EXPECT_EQ(*q.schedule, "0 6 * * *");
  // Exactly one of question and sql; each other field checked, naming it.
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v"})")); }), "question");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "question": "q", "sql": "SELECT 1"})")); }), "sql");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"sql": "SELECT 1"})")); }), "name");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": " ", "sql": "SELECT 1"})")); }), "name");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": " "})")); }), "sql");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "question": 5})")); }), "question");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "mode": "cached"})")); }), "mode");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "on_drift": "x"})")); }), "on_drift");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "schedule": ""})")); }), "schedule");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "connections": []})")); }), "connections");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "session_id": "0b9a5c9e-1c55-4d43-9c7e-2a3a41b8f1aa"})")); }), "session_id");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "question": "q", "session_id": "nope"})")); }), "session_id");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "question": "q", "description": "d"})")); }), "description");
  EXPECT_EQ(field_of([] { parse_create_view(json{{"name", std::string(301, 'v')}, {"sql", "SELECT 1"}}); }), "name");
  EXPECT_EQ(field_of([] { parse_create_view(json::parse(R"({"name": "v", "sql": "SELECT 1", "description": "d"})")); }), "(accepted)");
}

TEST(GatewayRequestBody, ViewPathsAndParameters) {
  EXPECT_FALSE(parse_rebind(json::object()));
  EXPECT_TRUE(parse_rebind(json::parse(R"({"replan": true})")));
  EXPECT_EQ(field_of([] { parse_rebind(json::parse(R"({"replan": "yes"})")); }), "replan");
  EXPECT_EQ(view_name("\"My schema\".\"Sales\""), "\"My schema\".\"Sales\"");
  EXPECT_EQ(field_of([] { view_name(""); }), "view");
  EXPECT_EQ(field_of([] { view_name(std::string("a\0b", 3)); }), "view");
  EXPECT_EQ(field_of([] { view_name(std::string(301, 'v')); }), "view");
  // ?offset= and ?limit=: nothing given is the whole result; either one is a page, bounded.
  using S = std::optional<std::string>;
  EXPECT_FALSE(parse_page(std::nullopt, std::nullopt));
  EXPECT_EQ(parse_page(S("200"), std::nullopt)->offset, 200);
  EXPECT_EQ(parse_page(S("200"), std::nullopt)->limit, 1000);
  EXPECT_EQ(parse_page(std::nullopt, S("10000"))->limit, 10000);
  EXPECT_EQ(parse_page(std::nullopt, S("0"))->offset, 0);
  EXPECT_EQ(parse_page(S("999999999999"), S("0"))->offset, 999999999999LL);
  EXPECT_EQ(field_of([] { parse_page(std::nullopt, S("10001")); }), "limit");
  EXPECT_EQ(field_of([] { parse_page(S("0"), S("-1")); }), "limit");
  EXPECT_EQ(field_of([] { parse_page(S("0"), S("")); }), "limit");
  EXPECT_EQ(field_of([] { parse_page(S("0"), S("1e3")); }), "limit");
  EXPECT_EQ(field_of([] { parse_page(S("-5"), S("10")); }), "offset");
  EXPECT_EQ(field_of([] { parse_page(S("1000000000000"), std::nullopt); }), "offset");
  EXPECT_EQ(field_of([] { parse_page(S("99999999999999999999"), std::nullopt); }), "offset");
  // ?format first, then Accept: CSV only when asked for before JSON.
  EXPECT_TRUE(wants_csv("csv", true, "application/json"));
  EXPECT_FALSE(wants_csv("json", true, "text/csv"));
  EXPECT_EQ(field_of([] { wants_csv("xml", true, ""); }), "format");
  EXPECT_TRUE(wants_csv("", false, "text/csv"));
  EXPECT_TRUE(wants_csv("", false, "text/csv, application/json;q=0.5"));
  EXPECT_FALSE(wants_csv("", false, "application/json, text/csv"));
  EXPECT_FALSE(wants_csv("", false, "*/*"));
  EXPECT_FALSE(wants_csv("", false, ""));
}

// A query spec's body: the spec a JSON object of at most 1 MB, its filter allowed to nest deeper than other bodies.
TEST(GatewayRequestBody, QuerySpec) {
  EXPECT_EQ(json::parse(parse_spec(json::parse(R"({"spec": {"table": "orders", "limit": 5}})"))),
            json::parse(R"({"table": "orders", "limit": 5})"));
  EXPECT_EQ(field_of([] { parse_spec(json::object()); }), "spec");
  EXPECT_EQ(field_of([] { parse_spec(json::parse(R"({"spec": null})")); }), "spec");
  EXPECT_EQ(field_of([] { parse_spec(json::parse(R"({"spec": "SELECT 1"})")); }), "spec");
  EXPECT_EQ(field_of([] { parse_spec(json::parse(R"({"spec": [{"table": "orders"}]})")); }), "spec");
  EXPECT_EQ(field_of([] { parse_spec(json{{"spec", {{"table", std::string(1 << 20, 'x')}}}}); }), "spec");
  EXPECT_EQ(field_of([] { parse_spec(json{{"spec", {{"table", std::string(1000, 'x')}}}}); }), "(accepted)");
  // A filter 16 nodes deep: {"spec": {"filter": {"not": … {"and": [{"column", "op"}]}}}}.
  std::string filter = R"({"column": "id", "op": "is null"})";
  for (int i = 0; i < 16; i++) filter = R"({"and": [)" + filter + "]}";
  const std::string body = R"({"spec": {"table": "t", "filter": )" + filter + "}}";
  EXPECT_EQ(field_of([&] { parse_object(body); }), "(body)");
  EXPECT_EQ(field_of([&] { parse_spec(parse_object(body, kMaxSpecNesting)); }), "(accepted)");
  EXPECT_EQ(field_of([] { parse_object(std::string(50, '[') + std::string(50, ']'), kMaxSpecNesting); }), "(body)");
}
