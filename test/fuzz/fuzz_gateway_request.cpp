// libFuzzer: what multidb-web reads from a client and from the coordinator, over its pure parsers: the request
// head the connection gate scans (its framing invariants checked), a JSON body through every endpoint's parser
// (only a BodyError may come out: anything else would be a 500), Basic credentials, cookies, Accept, the origin
// check, a progress NOTICE's DETAIL, the SQLSTATE → status table, the columns of a result's rows and the SSE
// event text. The first byte picks the head limit and flags; the rest is the input to all of them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/ask_result.hpp"
#include "gateway/event_stream.hpp"
#include "gateway/request_body.hpp"
#include "gateway/request_guard.hpp"
#include "gateway/request_head.hpp"
#include "gateway/status_map.hpp"

using namespace multidb::gateway;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void head(const std::string& bytes, size_t limit) {
  const RequestHead h = scan_request_head(bytes, limit);
  switch (h.state) {
    case RequestHead::State::kComplete:
      // The head ends with a CRLF line of its own, within the limit and the bytes.
      check(h.head_bytes >= 3 && h.head_bytes <= bytes.size() && h.head_bytes <= limit);
      check(bytes.compare(h.head_bytes - 2, 2, "\r\n") == 0 && bytes[h.head_bytes - 3] == '\n');
      break;
    case RequestHead::State::kTooLarge:
      check(bytes.size() >= limit);
      break;
    case RequestHead::State::kIncomplete:
      check(bytes.size() < limit || bytes.size() == 0);
      // More bytes never make an incomplete head complete earlier than where it now ends.
      break;
    case RequestHead::State::kBad:
      break;
  }
}

void bodies(const std::string& text, bool in_session) {
  nlohmann::json body;
  try {
    body = parse_object(text);
  } catch (const BodyError&) {
    return;
  }
  check(body.is_object());
  auto each = [&](auto parse) {
    try {
      parse();
    } catch (const BodyError&) {
    }
  };
  each([&] { parse_ask(body, in_session); });
  each([&] { parse_create_session(body); });
  each([&] { parse_patch_session(body); });
  each([&] { parse_sign_in(body); });
  each([&] { parse_connections(body, "connection_ids"); });
  each([&] { parse_create_view(body); });
  each([&] { parse_rebind(body); });
  each([&] { view_name(text); });
  each([&] { parse_page(text, std::nullopt); });
  each([&] { parse_page(std::nullopt, text); });
  each([&] { wants_csv(text, !text.empty(), text); });
  for (const auto& item : body.items())
    if (item.value().is_array()) infer_columns(item.value());
  const std::string event = sse_event("result", body);
  // One event: its text ends the event once, and nothing in it starts another.
  check(event.size() >= 2 && event.compare(event.size() - 2, 2, "\n\n") == 0);
  check(event.find("\n\n") == event.size() - 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  head(text, 16 + (flags & 0x3f) * 64);
  head(text, 16384);
  bodies(text, flags & 0x40);

  auto basic = parse_basic(text);
  if (basic) check(basic->role.size() + basic->password.size() <= text.size());
  cookie_value(text, "multidb_session");
  wants_event_stream(text);
  is_uuid(text);
  OriginCheck origin;
  origin.method = (flags & 1) ? "POST" : "GET";
  origin.auth = (flags & 2) ? AuthKind::kCookie : AuthKind::kBasic;
  origin.origin = text;
  origin.host = "127.0.0.1:8080";
  origin.sec_fetch_site = (flags & 4) ? "cross-site" : "";
  cross_site_refusal(origin);

  // A NOTICE: the message's first line, the DETAIL the rest.
  const size_t newline = text.find('\n');
  const std::string message = text.substr(0, newline);
  const std::string detail = newline == std::string::npos ? "" : text.substr(newline + 1);
  auto event = progress_event(message, detail);
  if (event) check(event->second.is_object() && sse_event(event->first, event->second).find("\n\n") != std::string::npos);
  const int status = http_status_for(message.substr(0, 5), detail);
  check(status >= 400 && status <= 599);
  database_named(detail);
  return 0;
}
