// Finding the end of an HTTP request head in the bytes received so far, and its body's framing.
#include "gateway/request_head.hpp"

#include <cctype>
#include <string>

namespace multidb::gateway {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A Content-Length value: digits only, at most 18 of them (no overflow); nullopt-like false otherwise.
bool parse_length(std::string_view value, size_t* out) {
  if (value.empty() || value.size() > 18) return false;
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace

RequestHead scan_request_head(std::string_view bytes, size_t max_head_bytes) {
  RequestHead head;
  const std::string_view window = bytes.substr(0, max_head_bytes);
  size_t line_start = window.find('\n');  // the request line
  if (line_start == std::string_view::npos) {
    if (bytes.size() >= max_head_bytes) head.state = RequestHead::State::kTooLarge;
    return head;
  }
  line_start++;
  bool seen_length = false;
  for (;;) {
    const size_t end = window.find('\n', line_start);
    if (end == std::string_view::npos) {
      if (bytes.size() >= max_head_bytes) head.state = RequestHead::State::kTooLarge;
      return head;
    }
    const std::string_view line = window.substr(line_start, end + 1 - line_start);
    line_start = end + 1;
    if (line == "\r\n") break;
    if (line.size() < 2 || line[line.size() - 2] != '\r') continue;  // cpp-httplib skips it too
    const std::string_view text = line.substr(0, line.size() - 2);
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = text.substr(0, colon), value = trim(text.substr(colon + 1));
    if (same_name(name, "Content-Length")) {
      size_t length = 0;
      if (!parse_length(value, &length) || (seen_length && length != head.content_length)) {
        head.state = RequestHead::State::kBad;
        return head;
      }
      seen_length = true;
      head.content_length = length;
    } else if (same_name(name, "Transfer-Encoding")) {
      head.chunked = head.chunked || same_name(value, "chunked");
    } else if (same_name(name, "Expect")) {
      head.expect_continue = head.expect_continue || value == "100-continue";
    }
  }
  head.state = RequestHead::State::kComplete;
  head.head_bytes = line_start;
  return head;
}

}  // namespace multidb::gateway
