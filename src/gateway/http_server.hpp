// multidb-web's HTTP(S) server: cpp-httplib's routing and responses, with every connection read by one poll
// thread (the connection gate) until a whole request has arrived (its head within --header-timeout of the
// first byte, a body of known length within --body-timeout after the head) and only then handed to a worker
// thread. A client that sends slowly, or keeps an idle keep-alive connection, holds no worker; one that misses
// its deadline gets a JSON 408 and is closed. Between requests a keep-alive connection goes back to the gate.
// cpp-httplib 0.11.4 reads a request with one timeout per recv() and holds a worker from accept to close; this
// replaces its per-connection loop (the virtual process_and_close_socket) and its socket stream, and keeps
// everything else of it (parsing, routing, the handlers, chunked responses).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <httplib.h>

namespace multidb::gateway {

struct ServerLimits {
  std::chrono::milliseconds header_timeout{10000};  // a request head, from its first byte (or the accept)
  std::chrono::milliseconds body_timeout{30000};    // a request body, from the end of the head
  std::chrono::milliseconds idle_timeout{5000};     // an idle keep-alive connection
  std::chrono::milliseconds read_timeout{10000};    // one wait for bytes inside a worker
  std::chrono::milliseconds write_timeout{10000};   // one wait for the client to take bytes
  size_t max_head_bytes = 16384;                    // a longer head: 431
  size_t max_body_bytes = 1 << 20;                  // a longer body is left to cpp-httplib (413)
  size_t max_connections = 800;                     // connections open at once; more are closed at accept
  size_t keep_alive_max = 100;                      // requests per connection
  size_t workers = 32;                              // threads that serve whole requests
};

// The server, plain or (with cert and key) HTTPS; nullptr and error set when the certificate cannot be used.
std::unique_ptr<httplib::Server> make_server(const ServerLimits& limits, const std::string& tls_cert,
                                             const std::string& tls_key, std::string* error);

}  // namespace multidb::gateway
