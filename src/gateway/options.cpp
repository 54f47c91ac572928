// multidb-web's command line: every flag, its environment variable, defaults, checks and --help.
#include "gateway/options.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>

namespace multidb::gateway {

const std::vector<FlagInfo>& flag_table() {
  static const std::vector<FlagInfo> kFlags = {
      {"listen", "HOST:PORT", "address to serve HTTP on (default 127.0.0.1:8080; [::1]:8080 for IPv6)"},
      {"database", "CONNINFO",
       "libpq conninfo of the coordinator database that has multidb, logging in as the authenticator role "
       "(required)"},
      {"pool-size", "N", "coordinator connections, 1..256 (default 4)"},
      {"threads", "N", "HTTP worker threads, 1..1024 (default 16), besides one per --max-streams"},
      {"max-streams", "N",
       "live-progress streams (Accept: text/event-stream) open at once, 1..1024 (default 16); each holds a worker "
       "thread of its own, more are 503"},
      {"per-role-limit", "N", "concurrent requests of one role, streams included, 1..1024 (default 8); more are 429"},
      {"session-ttl", "SECONDS", "how long a browser sign-in lasts (default 28800)"},
      {"trust-local", "ROLE",
       "requests without credentials run as ROLE; only with a loopback --listen (prints a WARNING)"},
      {"tls-cert", "FILE", "PEM certificate: serve HTTPS (with --tls-key)"},
      {"tls-key", "FILE", "PEM private key of --tls-cert"},
      {"max-body", "BYTES", "largest request body, larger is 413 (default 1048576)"},
      {"max-header", "BYTES", "largest request header block, larger is 431 (default 8192)"},
      {"read-timeout", "SECONDS", "drop a client that sends nothing for this long (default 10)"},
      {"write-timeout", "SECONDS", "drop a client that reads nothing for this long (default 10)"},
      {"idle-timeout", "SECONDS", "close an idle keep-alive connection after this long (default 5)"},
      {"header-timeout", "SECONDS",
       "a request's line and headers must all arrive within this long of its first byte, else 408 and the "
       "connection is closed (default 10)"},
      {"body-timeout", "SECONDS",
       "a request's body must all arrive within this long of its headers, else 408 and the connection is closed "
       "(default 30)"},
      {"max-connections", "N",
       "client connections open at once, 16..900 (default 800); more are closed at once. Connections that are "
       "still sending their request, or idle between requests, hold no worker thread"},
      {"coordinator-timeout", "SECONDS",
       "longest wait for any one coordinator statement of a request; then it is cancelled, its connection dropped, "
       "and the answer is 504 (default 300)"},
      {"pool-timeout", "MS", "longest wait for a free coordinator connection, then 504 (default 5000)"},
      {"auth-delay", "MS", "every failed sign-in is answered after this long (default 1000)"},
      {"connect-timeout", "SECONDS", "coordinator connections and password checks (default 10)"},
      {"docs-dir", "DIR", "swagger-ui-dist's files for the API page at /api/docs (default: where make install put them)"},
      {"ui-dir", "DIR", "the web UI's built files, served at / and /ui/ (default: where make install put them)"},
      {"print-routes", "", "print every route the server has (method and path pattern, one a line) and exit"},
      {"help", "", "print this and exit"},
  };
  return kFlags;
}

std::string env_name(const std::string& flag) {
  std::string name = "MULTIDB_WEB_";
  for (char c : flag) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.rfind("127.", 0) == 0;
}

namespace {

bool parse_long(const std::string& text, long low, long high, long* out) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  errno = 0;
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < low || value > high) return false;
  *out = value;
  return true;
}

bool set_listen(const std::string& text, Options* o) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  long port;
  if (!parse_long(text.substr(colon + 1), 1, 65535, &port)) return false;
  o->listen_host = host;
  o->listen_port = static_cast<int>(port);
  return true;
}

// Sets one flag; false if the value does not fit (the caller names the flag).
bool apply(const std::string& flag, const std::string& value, Options* o, std::string* why) {
  long n = 0;
  auto number = [&](long low, long high) {
    if (parse_long(value, low, high, &n)) return true;
    *why = "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high);
    return false;
  };
  if (flag == "listen") {
    if (set_listen(value, o)) return true;
    *why = "must be HOST:PORT, e.g. 127.0.0.1:8080";
    return false;
  }
  if (flag == "database") {
    if (value.empty()) { *why = "must not be empty"; return false; }
    o->database = value;
    return true;
  }
  if (flag == "pool-size") { if (!number(1, 256)) return false; o->pool_size = static_cast<int>(n); return true; }
  if (flag == "threads") { if (!number(1, 1024)) return false; o->threads = static_cast<int>(n); return true; }
  if (flag == "max-streams") { if (!number(1, 1024)) return false; o->max_streams = static_cast<int>(n); return true; }
  if (flag == "per-role-limit") { if (!number(1, 1024)) return false; o->per_role_limit = static_cast<int>(n); return true; }
  if (flag == "session-ttl") { if (!number(1, 30L * 86400)) return false; o->session_ttl_s = n; return true; }
  if (flag == "trust-local") {
    if (value.empty() || value.size() > 63) { *why = "must be a role name"; return false; }
    o->trust_local = value;
    return true;
  }
  if (flag == "tls-cert") { o->tls_cert = value; return true; }
  if (flag == "tls-key") { o->tls_key = value; return true; }
  if (flag == "max-body") { if (!number(1024, 1L << 30)) return false; o->max_body_bytes = static_cast<size_t>(n); return true; }
  if (flag == "max-header") { if (!number(1024, 8192)) return false; o->max_header_bytes = static_cast<size_t>(n); return true; }
  if (flag == "read-timeout") { if (!number(1, 3600)) return false; o->read_timeout_s = n; return true; }
  if (flag == "write-timeout") { if (!number(1, 3600)) return false; o->write_timeout_s = n; return true; }
  if (flag == "idle-timeout") { if (!number(1, 3600)) return false; o->idle_timeout_s = n; return true; }
  if (flag == "header-timeout") { if (!number(1, 3600)) return false; o->header_timeout_s = n; return true; }
  if (flag == "body-timeout") { if (!number(1, 3600)) return false; o->body_timeout_s = n; return true; }
  if (flag == "max-connections") { if (!number(16, 900)) return false; o->max_connections = static_cast<size_t>(n); return true; }
  if (flag == "coordinator-timeout") { if (!number(1, 86400)) return false; o->coordinator_timeout_s = n; return true; }
  if (flag == "pool-timeout") { if (!number(1, 600000)) return false; o->pool_timeout_ms = n; return true; }
  if (flag == "auth-delay") { if (!number(0, 60000)) return false; o->auth_delay_ms = n; return true; }
  if (flag == "docs-dir") { o->docs_dir = value; return true; }
  if (flag == "ui-dir") {
    if (value.empty()) { *why = "must name a directory (the web UI's built files)"; return false; }
    o->ui_dir = value;
    return true;
  }
  if (flag == "connect-timeout") { if (!number(1, 600)) return false; o->connect_timeout_s = n; return true; }
  *why = "is no flag of multidb-web";
  return false;
}

const FlagInfo* find_flag(const std::string& name) {
  for (const FlagInfo& f : flag_table())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

std::optional<Options> parse_options(const std::vector<std::string>& args,
                                     const std::function<std::optional<std::string>(const std::string&)>& getenv,
                                     std::string* error) {
  Options o;
  std::string why;
  for (const FlagInfo& f : flag_table()) {
    if (std::string(f.name) == "help" || std::string(f.name) == "print-routes") continue;
    std::optional<std::string> value = getenv(env_name(f.name));
    if (!value) continue;
    if (!apply(f.name, *value, &o, &why)) {
      *error = env_name(f.name) + " " + why;
      return std::nullopt;
    }
  }
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") { o.help = true; continue; }
    if (arg == "--print-routes") { o.print_routes = true; continue; }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument \"" + arg + "\" (see --help)";
      return std::nullopt;
    }
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    bool has_value = eq != std::string::npos;
    if (has_value) { value = name.substr(eq + 1); name = name.substr(0, eq); }
    const FlagInfo* flag = find_flag(name);
    if (!flag) {
      *error = "unknown flag --" + name + " (see --help)";
      return std::nullopt;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = "--" + name + " needs a value: " + flag->argument;
        return std::nullopt;
      }
      value = args[++i];
    }
    if (!apply(name, value, &o, &why)) {
      *error = "--" + name + " " + why;
      return std::nullopt;
    }
  }
  if (o.help || o.print_routes) return o;
  if (o.database.empty()) {
    *error = "--database (or MULTIDB_WEB_DATABASE) is required: the coordinator's libpq conninfo";
    return std::nullopt;
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    *error = "--tls-cert and --tls-key go together";
    return std::nullopt;
  }
  if (!o.trust_local.empty() && !is_loopback(o.listen_host)) {
    *error = "--trust-local needs a loopback --listen (127.0.0.1 or ::1): anyone who reaches " + o.listen_host +
             " would act as role \"" + o.trust_local + "\"";
    return std::nullopt;
  }
  return o;
}

std::string help_text() {
  std::string text =
      "multidb-web: multidb over HTTP, each request as the Postgres role that signed in.\n\n"
      "Usage: multidb-web --database CONNINFO [--listen HOST:PORT] [flags]\n\n"
      "Flags (each also from the environment variable shown):\n";
  for (const FlagInfo& f : flag_table()) {
    std::string left = std::string("  --") + f.name + (*f.argument ? std::string(" ") + f.argument : "");
    if (left.size() < 28) left.resize(28, ' ');
    text += left + " " + f.help;
    if (std::string(f.name) != "help" && std::string(f.name) != "print-routes") text += " [" + env_name(f.name) + "]";
    text += "\n";
  }
  return text;
}

std::vector<std::string> start_warnings(const Options& o) {
  std::vector<std::string> warnings;
  if (!is_loopback(o.listen_host) && o.tls_cert.empty())
    warnings.push_back("WARNING: listening on " + o.listen_host +
                       " without TLS: passwords and session cookies cross the network in clear text; give "
                       "--tls-cert and --tls-key, or put multidb-web behind a TLS proxy");
  if (!o.trust_local.empty())
    warnings.push_back("WARNING: --trust-local: every request without credentials runs as role \"" + o.trust_local +
                       "\"; anyone who can reach " + o.listen_host + ":" + std::to_string(o.listen_port) +
                       " on this machine acts as that role");
  return warnings;
}

}  // namespace multidb::gateway
