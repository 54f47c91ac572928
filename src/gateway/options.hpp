// multidb-web's command line: every flag, its environment variable (MULTIDB_WEB_<FLAG>), its default, the
// checks between flags, and the --help text. Pure: no I/O, the environment is passed in.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace multidb::gateway {

struct Options {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string database;              // libpq conninfo of the coordinator (logs in as the authenticator role)
  int pool_size = 4;                 // coordinator connections
  int threads = 16;                  // HTTP worker threads (besides the --max-streams ones)
  int max_streams = 16;              // open Server-Sent Event streams at once (each holds a worker thread)
  int per_role_limit = 8;            // concurrent requests (streams too) of one role; more: 429
  long session_ttl_s = 8 * 3600;     // browser sign-in lifetime
  std::string trust_local;           // role that requests without credentials run as (loopback only)
  std::string tls_cert, tls_key;
  size_t max_body_bytes = 1 << 20;   // larger request bodies: 413
  size_t max_header_bytes = 8192;    // all request headers together; larger: 431
  long read_timeout_s = 10;          // one wait for a request's bytes inside a worker
  long write_timeout_s = 10;
  long idle_timeout_s = 5;           // keep-alive
  long header_timeout_s = 10;        // a request's line and headers, from the first byte: 408 after
  long body_timeout_s = 30;          // a request's body, from the end of its headers: 408 after
  size_t max_connections = 800;      // client connections at once (below FD_SETSIZE: cpp-httplib uses select)
  long coordinator_timeout_s = 300;  // any one coordinator statement of a request: cancelled and 504 after
  long pool_timeout_ms = 5000;       // waiting for a coordinator connection: 504 after this
  long auth_delay_ms = 1000;         // every failed sign-in answers after this long
  long connect_timeout_s = 10;       // coordinator connections and password checks
#ifndef MULTIDB_WEB_DOCS_DIR
#define MULTIDB_WEB_DOCS_DIR "/usr/share/postgresql/15/multidb-web/swagger-ui"
#endif
#ifndef MULTIDB_WEB_UI_DIR
#define MULTIDB_WEB_UI_DIR "/usr/share/postgresql/15/multidb-web/ui"
#endif
  std::string docs_dir = MULTIDB_WEB_DOCS_DIR;  // swagger-ui-dist's files for /api/docs (make install puts them here)
  std::string ui_dir = MULTIDB_WEB_UI_DIR;      // the web UI's built files, served at / (make install puts them here)
  bool help = false;
  bool print_routes = false;        // print every route (method and path pattern) and exit
};

// One flag, for --help and the environment.
struct FlagInfo {
  const char* name;       // "listen"
  const char* argument;   // "HOST:PORT", or "" for a switch
  const char* help;
};
const std::vector<FlagInfo>& flag_table();

// "listen" -> "MULTIDB_WEB_LISTEN".
std::string env_name(const std::string& flag);

// Flags from argv override the environment; the environment overrides the defaults. On a bad flag or
// value, returns nullopt and sets error to a sentence naming the flag (or its variable).
std::optional<Options> parse_options(const std::vector<std::string>& args,
                                     const std::function<std::optional<std::string>(const std::string&)>& getenv,
                                     std::string* error);

std::string help_text();

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

// WARNINGs the start must print for these options (non-loopback without TLS, trust-local).
std::vector<std::string> start_warnings(const Options& options);

}  // namespace multidb::gateway
