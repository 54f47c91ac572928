// Server-Sent Events for multidb-web, pure: one event's text (`event:` / `data:` lines, a blank line), the
// keep-alive comment, whether a request asks for a stream, and a progress NOTICE (`multidb progress: <event>`
// with its one-line JSON DETAIL) turned into the event that relays it.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace multidb::gateway {

// "event: NAME\ndata: JSON\n\n"; data is one line (nlohmann's dump never breaks lines), non-ASCII escaped.
std::string sse_event(const std::string& name, const nlohmann::json& data);

// The comment a stream sends while nothing else happens, so proxies and the gateway itself notice a reader
// that has gone.
std::string sse_keep_alive();

// True when an Accept header lists text/event-stream.
bool wants_event_stream(const std::string& accept);

// A NOTICE's primary message and DETAIL → (event name, its JSON), or nullopt when it is no progress NOTICE
// (or its DETAIL is no JSON object, or the name is not a plain word).
std::optional<std::pair<std::string, nlohmann::json>> progress_event(const std::string& message,
                                                                     const std::string& detail);

}  // namespace multidb::gateway
