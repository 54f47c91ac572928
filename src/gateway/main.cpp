// multidb-web's entry point: reads the flags, refuses an unfit authenticator role, and serves HTTP (or HTTPS)
// until SIGINT or SIGTERM.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"
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

  std::unique_ptr<httplib::Server> server;
  if (!options->tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options->tls_cert.c_str(), options->tls_key.c_str());
    if (!tls->is_valid()) {
      std::cerr << "multidb-web: cannot use --tls-cert " << options->tls_cert << " with --tls-key " << options->tls_key << "\n";
      return 1;
    }
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  // Each open stream holds a worker thread for as long as it runs: the pool has one per --max-streams besides
  // --threads for everything else.
  const int threads = options->threads + options->max_streams;
  server->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server->set_payload_max_length(options->max_body_bytes);
  server->set_read_timeout(options->read_timeout_s, 0);
  server->set_write_timeout(options->write_timeout_s, 0);
  server->set_keep_alive_timeout(options->idle_timeout_s);
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
