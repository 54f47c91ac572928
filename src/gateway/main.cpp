// multidb-web's entry point: reads the flags, refuses an unfit authenticator role, and serves HTTP (or HTTPS)
// until SIGINT or SIGTERM.
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
#include "gateway/http_server.hpp"
#include "gateway/options.hpp"

namespace {
httplib::Server* g_server = nullptr;
void stop(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace multidb::gateway;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  std::optional<Options> options = parse_options(args, [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  }, &error);
  if (!options) {
    std::cerr << "multidb-web: " << error << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << help_text();
    return 0;
  }
  if (options->print_routes) {
    Gateway gateway(*options);
    httplib::Server server;
    gateway.install(server);
    for (const auto& route : gateway.routes()) std::cout << route.first << " " << route.second << "\n";
    return 0;
  }
  for (const std::string& warning : start_warnings(*options)) std::cerr << "multidb-web: " << warning << "\n";

  // The web UI is optional: without its files the API serves on, and / says how to install them.
  struct stat ui_page {};
  if (stat((options->ui_dir + "/index.html").c_str(), &ui_page) != 0)
    std::cerr << "multidb-web: the web UI is not installed in " << options->ui_dir
              << " (/ will answer 404): `make install` puts it there, or give --ui-dir\n";

  Gateway gateway(*options);
  const std::string unfit = gateway.db().check_authenticator();
  if (!unfit.empty()) {
    std::cerr << "multidb-web: " << unfit << "\n";
    return 1;
  }

  if (!options->trust_local.empty()) {
    try {
      gateway.check_may_sign_in(options->trust_local);
    } catch (const ApiError& e) {
      std::cerr << "multidb-web: --trust-local: " << e.what() << " (" << e.hint << ")\n";
      return 1;
    }
  }

  // Connections wait in one poll thread until their request has arrived (http_server.*); the workers serve
  // whole requests. Each open stream holds a worker for as long as it runs: one per --max-streams besides
  // --threads for everything else.
  ServerLimits limits;
  limits.header_timeout = std::chrono::seconds(options->header_timeout_s);
  limits.body_timeout = std::chrono::seconds(options->body_timeout_s);
  limits.idle_timeout = std::chrono::seconds(options->idle_timeout_s);
  limits.read_timeout = std::chrono::seconds(options->read_timeout_s);
  limits.write_timeout = std::chrono::seconds(options->write_timeout_s);
  // The request line (cpp-httplib allows 8192 bytes) and the headers (--max-header, checked again by name
  // and value once parsed).
  limits.max_head_bytes = 8192 + options->max_header_bytes * 2;
  limits.max_body_bytes = options->max_body_bytes;
  limits.max_connections = options->max_connections;
  limits.workers = static_cast<size_t>(options->threads + options->max_streams);
  std::string why;
  std::unique_ptr<httplib::Server> server = make_server(limits, options->tls_cert, options->tls_key, &why);
  if (!server) {
    std::cerr << "multidb-web: " << why << "\n";
    return 1;
  }
  server->set_payload_max_length(options->max_body_bytes);
  server->set_read_timeout(options->read_timeout_s, 0);
  server->set_write_timeout(options->write_timeout_s, 0);
  server->set_keep_alive_timeout(options->idle_timeout_s);
  server->set_keep_alive_max_count(limits.keep_alive_max);
  // A response goes out as several writes (headers, then body or chunks): without TCP_NODELAY, Nagle's algorithm
  // holds the last one until the client acknowledges the first, and a delayed ACK makes that up to 40 ms.
  server->set_tcp_nodelay(true);
  gateway.install(*server);

  g_server = server.get();
  std::signal(SIGINT, stop);
  std::signal(SIGTERM, stop);
  std::signal(SIGPIPE, SIG_IGN);
  if (!server->bind_to_port(options->listen_host, options->listen_port)) {
    std::cerr << "multidb-web: cannot listen on " << options->listen_host << ":" << options->listen_port << "\n";
    return 1;
  }
  std::cerr << "multidb-web: serving " << (options->tls_cert.empty() ? "http" : "https") << "://"
            << options->listen_host << ":" << options->listen_port << "/\n";
  server->listen_after_bind();
  return 0;
}
