// Whether the bytes a connection has sent so far hold a whole HTTP/1.1 request head (request line and headers,
// up to the blank line), and what the head says about the body that follows: its Content-Length, whether it is
// chunked, whether the client waits for "100 Continue". The connection gate (http_server.*) reads requests with
// this before a worker thread is given to them. Pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace multidb::gateway {

struct RequestHead {
  enum class State {
    kIncomplete,  // no blank line yet, and within the limit
    kComplete,    // head_bytes is the head's length with its blank line
    kTooLarge,    // no blank line within max_head_bytes: 431
    kBad,         // a Content-Length that is not a number, or two that differ: 400
  };
  State state = State::kIncomplete;
  size_t head_bytes = 0;
  size_t content_length = 0;    // 0 without the header
  bool chunked = false;         // Transfer-Encoding: chunked (the body's length is not known in advance)
  bool expect_continue = false; // Expect: 100-continue (the client sends its body after the server's answer)
};

// Scans the bytes received so far (the head starts at bytes[0]) as cpp-httplib reads a head: the request line
// is the first line; then header lines, each ending in CRLF (a line ending in a bare LF is ignored, as
// cpp-httplib ignores it), until a line that is CRLF alone. Header names are matched without regard to case.
RequestHead scan_request_head(std::string_view bytes, size_t max_head_bytes);

}  // namespace multidb::gateway
