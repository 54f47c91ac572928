// The end of a request head in the bytes a connection has sent so far, as the connection gate reads it before a
// worker is given the request: complete or not, too large, and the body's framing (Content-Length, chunked,
// 100-continue), read as cpp-httplib reads a head.
#include <gtest/gtest.h>

#include "gateway/request_head.hpp"

using namespace multidb::gateway;
using State = RequestHead::State;

TEST(GatewayRequestHead, FindsTheEndOfTheHead) {
  const std::string get = "GET /api/health HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead head = scan_request_head(get, 16384);
  EXPECT_EQ(head.state, State::kComplete);
  EXPECT_EQ(head.head_bytes, get.size());
  EXPECT_EQ(head.content_length, 0u);
  // Every prefix is incomplete; the bytes after the head (a body, a pipelined request) are not part of it.
  for (size_t n = 0; n < get.size(); n++) EXPECT_EQ(scan_request_head(get.substr(0, n), 16384).state, State::kIncomplete) << n;
  EXPECT_EQ(scan_request_head(get + "GET / HTTP/1.1\r\n", 16384).head_bytes, get.size());
  // A request line alone, then the blank line.
  EXPECT_EQ(scan_request_head("GET / HTTP/1.0\r\n\r\n", 100).head_bytes, 18u);
  // A line ending in a bare LF is skipped, as cpp-httplib skips it: "\n\n" does not end a head.
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nX: 1\n\n", 100).state, State::kIncomplete);
}

TEST(GatewayRequestHead, ReadsTheBodysFraming) {
  RequestHead head = scan_request_head("POST /p HTTP/1.1\r\ncontent-LENGTH:  42 \r\n\r\n{", 16384);
  EXPECT_EQ(head.state, State::kComplete);
  EXPECT_EQ(head.content_length, 42u);
  EXPECT_FALSE(head.chunked);
  head = scan_request_head("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", 16384);
  EXPECT_TRUE(head.chunked);
  EXPECT_TRUE(head.expect_continue);
  // The same length twice is fine; two lengths, a sign, a non-digit or 19 digits are refused (request smuggling).
  EXPECT_EQ(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 100).state, State::kComplete);
  EXPECT_EQ(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 100).state, State::kBad);
  EXPECT_EQ(scan_request_head("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 100).state, State::kBad);
  EXPECT_EQ(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 100).state, State::kBad);
  EXPECT_EQ(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n", 100).state, State::kBad);
}

TEST(GatewayRequestHead, BoundsTheHead) {
  const std::string big = "GET / HTTP/1.1\r\nX-A: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(scan_request_head(big, 100).state, State::kTooLarge);
  EXPECT_EQ(scan_request_head(big.substr(0, 99), 100).state, State::kIncomplete);
  EXPECT_EQ(scan_request_head(std::string(100, 'G'), 100).state, State::kTooLarge);  // no line end at all
  EXPECT_EQ(scan_request_head(big, big.size()).state, State::kComplete);
}
