// Server-Sent Events: formatting, the Accept check, and progress NOTICEs read as events.
#include "gateway/event_stream.hpp"

#include <cctype>

namespace multidb::gateway {

using nlohmann::json;

std::string sse_event(const std::string& name, const json& data) {
  return "event: " + name + "\ndata: " + data.dump(-1, ' ', true, json::error_handler_t::replace) + "\n\n";
}

std::string sse_keep_alive() { return ": keep-alive\n\n"; }

bool wants_event_stream(const std::string& accept) {
  std::string lower;
  lower.reserve(accept.size());
  for (char c : accept) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("text/event-stream") != std::string::npos;
}

std::optional<std::pair<std::string, json>> progress_event(const std::string& message, const std::string& detail) {
  static const std::string kPrefix = "multidb progress: ";
  if (message.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  std::string name = message.substr(kPrefix.size());
  if (name.empty() || name.size() > 32) return std::nullopt;
  for (char c : name)
    if (!std::islower(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
  json data = json::parse(detail, nullptr, false);
  if (data.is_discarded() || !data.is_object()) return std::nullopt;
  return std::make_pair(name, data);
}

}  // namespace multidb::gateway
