// The HTTP(S) server whose connections wait in one poll thread, under deadlines, until a whole request is there.
#include "gateway/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gateway/api_error.hpp"
#include "gateway/request_head.hpp"

namespace multidb::gateway {

namespace {

using Clock = std::chrono::steady_clock;

int millis_until(Clock::time_point deadline, Clock::time_point now) {
  if (deadline <= now) return 0;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
}

// One client connection: its socket (non-blocking for its whole life), its TLS session, the bytes received and
// not yet consumed, and where its current request is.
struct Conn {
  enum class Phase { kHandshake, kIdle, kHead, kBody };
  int fd;
  SSL* ssl = nullptr;
  Phase phase = Phase::kHead;
  Clock::time_point deadline;
  std::string in;          // received, not consumed
  size_t need = 0;         // kBody: the bytes of in that make the whole request
  short wants = POLLIN;    // what the socket must become for the next read (TLS may need to write)
  size_t served = 0;

  explicit Conn(int fd_) : fd(fd_) {}
  ~Conn() {
    if (ssl) {
      SSL_shutdown(ssl);  // a close_notify, if the socket takes it at once
      SSL_free(ssl);
    }
    if (fd >= 0) {
      shutdown(fd, SHUT_RDWR);
      close(fd);
    }
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // What is there to read: > 0 bytes, 0 at the end of the stream, -1 on an error, -2 when nothing is there yet
  // (wants then says what to wait for).
  ssize_t recv_some(char* buffer, size_t size) {
    if (ssl) {
      ERR_clear_error();
      const int n = SSL_read(ssl, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return n;
      return ssl_outcome(n);
    }
    for (;;) {
      const ssize_t n = recv(fd, buffer, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wants = POLLIN;
        return -2;
      }
      return -1;
    }
  }
  // As recv_some, for sending.
  ssize_t send_some(const char* data, size_t size) {
    if (ssl) {
      ERR_clear_error();
      const int n = SSL_write(ssl, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return n;
      return ssl_outcome(n);
    }
    for (;;) {
      const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wants = POLLOUT;
        return -2;
      }
      return -1;
    }
  }
  // The TLS handshake: 1 done, -2 not yet, -1 failed.
  int handshake() {
    ERR_clear_error();
    const int n = SSL_do_handshake(ssl);
    if (n == 1) return 1;
    return ssl_outcome(n) == -2 ? -2 : -1;
  }

 private:
  ssize_t ssl_outcome(int n) {
    switch (SSL_get_error(ssl, n)) {
      case SSL_ERROR_WANT_READ: wants = POLLIN; return -2;
      case SSL_ERROR_WANT_WRITE: wants = POLLOUT; return -2;
      case SSL_ERROR_ZERO_RETURN: return 0;
      default: return -1;
    }
  }
};

using ConnPtr = std::shared_ptr<Conn>;

// Waits until the socket is ready for what conn->wants, at most ms: true when it is.
bool wait_ready(const Conn& conn, int ms) {
  pollfd pfd{conn.fd, conn.wants, 0};
  for (;;) {
    const int n = poll(&pfd, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if ((peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
            : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)) != 0)
    return;
  char host[NI_MAXHOST], service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, service, sizeof service,
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// The stream a worker serves one request through: the bytes the gate received first, then the socket, every
// read within the request's deadline (and each wait within --read-timeout); writes wait --write-timeout at most
// per wait.
class GatedStream : public httplib::Stream {
 public:
  GatedStream(Conn& conn, const ServerLimits& limits) : conn_(conn), limits_(limits) {}

  bool is_readable() const override {
    if (pos_ < conn_.in.size()) return true;
    if (conn_.ssl && SSL_pending(conn_.ssl) > 0) return true;
    const auto now = Clock::now();
    pollfd pfd{conn_.fd, POLLIN, 0};
    return poll(&pfd, 1, std::min(millis_until(conn_.deadline, now), static_cast<int>(limits_.read_timeout.count()))) > 0;
  }
  bool is_writable() const override {
    pollfd pfd{conn_.fd, POLLOUT, 0};
    if (poll(&pfd, 1, static_cast<int>(limits_.write_timeout.count())) <= 0) return false;
    // Alive unless the client has closed its end: a readable socket with nothing to peek at.
    pollfd in{conn_.fd, POLLIN, 0};
    if (poll(&in, 1, 0) <= 0) return true;
    char c;
    const ssize_t n = recv(conn_.fd, &c, 1, MSG_PEEK);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < conn_.in.size()) {
      const size_t n = std::min(size, conn_.in.size() - pos_);
      std::copy_n(conn_.in.data() + pos_, n, ptr);
      pos_ += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      const ssize_t n = conn_.recv_some(ptr, size);
      if (n != -2) {
        if (n <= 0) failed_ = true;
        return n;
      }
      const int left = millis_until(conn_.deadline, Clock::now());
      if (left <= 0 || !wait_ready(conn_, std::min(left, static_cast<int>(limits_.read_timeout.count())))) {
        failed_ = true;
        return -1;
      }
    }
  }
  ssize_t write(const char* ptr, size_t size) override {
    for (;;) {
      const ssize_t n = conn_.send_some(ptr, size);
      if (n != -2) {
        if (n < 0) failed_ = true;
        return n;
      }
      if (!wait_ready(conn_, static_cast<int>(limits_.write_timeout.count()))) {
        failed_ = true;
        return -1;
      }
    }
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(conn_.fd, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(conn_.fd, false, ip, port); }
  socket_t socket() const override { return conn_.fd; }

  // The request is over: what it read of the gate's bytes is consumed; the rest (a pipelined request) stays.
  void finish() { conn_.in.erase(0, std::min(pos_, conn_.in.size())); }
  bool failed() const { return failed_; }

 private:
  Conn& conn_;
  const ServerLimits& limits_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// A response the gate writes itself before it closes a connection (a missed deadline, a head too large):
// one non-blocking attempt, the JSON error body every endpoint answers with.
void refuse(Conn& conn, int status, const char* reason, const std::string& message, const std::string& hint) {
  const std::string body = ApiError(status, message, hint).body().dump();
  const std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                           "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
  conn.send_some(text.data(), text.size());
}

}  // namespace

// The gate: one thread polls every connection that has no complete request yet (and the idle keep-alive
// ones), reads what arrives, closes those past their deadline, and hands complete requests to the workers.
class ConnectionGate {
 public:
  using Serve = std::function<bool(httplib::Stream&, bool close_connection, bool& connection_closed)>;

  ConnectionGate(const ServerLimits& limits, SSL_CTX* tls, Serve serve)
      : limits_(limits), tls_(tls), serve_(std::move(serve)), wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
        workers_(limits.workers), thread_([this] { loop(); }) {}

  ~ConnectionGate() {
    stopping_ = true;
    wake();
    thread_.join();
    workers_.shutdown();
    close(wake_);
  }

  // A connection just accepted (the accepting thread).
  void admit(int fd) {
    if (stopping_ || open_ >= limits_.max_connections) {
      // Full: the client may retry; a bound on connections is a bound on the gate's memory and on descriptors
      // (cpp-httplib answers 500 to a socket at or above FD_SETSIZE).
      shutdown(fd, SHUT_RDWR);
      close(fd);
      return;
    }
    open_++;
    const int flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    auto conn = ConnPtr(new Conn(fd), [this](Conn* c) {
      delete c;
      open_--;
    });
    conn->deadline = Clock::now() + limits_.header_timeout;
    if (tls_) {
      conn->ssl = SSL_new(tls_);
      if (!conn->ssl) return;
      SSL_set_fd(conn->ssl, fd);
      SSL_set_accept_state(conn->ssl);
      SSL_set_mode(conn->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      conn->phase = Conn::Phase::kHandshake;
    }
    hand_in(std::move(conn));
  }

 private:
  void wake() {
    uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {
      // The counter is full: the gate is awake anyway.
    }
  }

  void hand_in(ConnPtr conn) {
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      inbox_.push_back(std::move(conn));
    }
    wake();
  }

  // Back from a worker after a response on a connection that stays open.
  void readmit(ConnPtr conn) {
    if (stopping_) return;
    conn->phase = Conn::Phase::kIdle;
    conn->wants = POLLIN;
    conn->deadline = Clock::now() + limits_.idle_timeout;
    hand_in(std::move(conn));
  }

  // A worker serves one whole request (and the ones pipelined after it).
  void serve(ConnPtr conn) {
    GatedStream stream(*conn, limits_);
    const bool close_connection = stopping_ || conn->served + 1 >= limits_.keep_alive_max;
    bool connection_closed = false;
    bool ok = false;
    try {
      ok = serve_(stream, close_connection, connection_closed);
    } catch (const std::exception& e) {
      std::cerr << "multidb-web: a request failed outside its route: " << e.what() << "\n";
    }
    conn->served++;
    stream.finish();
    if (ok && !connection_closed && !close_connection && !stream.failed()) readmit(std::move(conn));
  }

  void dispatch(const ConnPtr& conn, Clock::time_point now) {
    // The rest of the request (a chunked body, one after 100 Continue) is read by the worker under this.
    if (conn->phase != Conn::Phase::kBody) conn->deadline = now + limits_.body_timeout;
    workers_.enqueue([this, conn] { serve(conn); });
  }

  enum class Next { kWait, kDispatch, kClose };

  // What a connection's bytes so far make of it.
  Next judge(Conn& conn, Clock::time_point now) {
    if (conn.phase == Conn::Phase::kIdle) {
      if (conn.in.empty()) return Next::kWait;
      conn.phase = Conn::Phase::kHead;
      conn.deadline = now + limits_.header_timeout;
    }
    if (conn.phase == Conn::Phase::kHead) {
      const RequestHead head = scan_request_head(conn.in, limits_.max_head_bytes);
      switch (head.state) {
        case RequestHead::State::kIncomplete:
          return Next::kWait;
        case RequestHead::State::kTooLarge:
          refuse(conn, 431, "Request Header Fields Too Large", "the request line and headers are larger than --max-header allows",
                 "send fewer or shorter headers");
          return Next::kClose;
        case RequestHead::State::kBad:
          refuse(conn, 400, "Bad Request", "the request's Content-Length is not a number, or two of them differ",
                 "send one Content-Length with the body's length in bytes");
          return Next::kClose;
        case RequestHead::State::kComplete:
          break;
      }
      // A body the worker reads itself: one of unknown length, one the client sends only after 100 Continue, one
      // cpp-httplib will refuse with 413 without keeping it.
      if (head.chunked || head.expect_continue || head.content_length > limits_.max_body_bytes) return Next::kDispatch;
      conn.need = head.head_bytes + head.content_length;
      conn.phase = Conn::Phase::kBody;
      conn.deadline = now + limits_.body_timeout;
    }
    return conn.in.size() >= conn.need ? Next::kDispatch : Next::kWait;
  }

  // Reads what the socket has (up to what the current phase may hold) and judges the connection.
  Next advance(Conn& conn, Clock::time_point now) {
    if (conn.phase == Conn::Phase::kHandshake) {
      const int done = conn.handshake();
      if (done == -2) return Next::kWait;
      if (done < 0) return Next::kClose;
      conn.phase = Conn::Phase::kHead;
      conn.wants = POLLIN;
    }
    char buffer[16384];
    for (;;) {
      const size_t cap = conn.phase == Conn::Phase::kBody ? conn.need : limits_.max_head_bytes + 1;
      if (conn.in.size() >= cap) break;
      const ssize_t n = conn.recv_some(buffer, sizeof buffer);
      if (n == -2) break;
      if (n <= 0) return Next::kClose;  // the client left (or failed) before its request was whole
      conn.in.append(buffer, static_cast<size_t>(n));
      if (conn.phase == Conn::Phase::kIdle) {
        conn.phase = Conn::Phase::kHead;
        conn.deadline = now + limits_.header_timeout;
      }
    }
    return judge(conn, now);
  }

  // A connection past its deadline: an idle one or one that sent nothing is closed quietly, one in the middle of
  // a request gets a 408 first.
  void expire(Conn& conn) {
    if (conn.phase == Conn::Phase::kHead && !conn.in.empty())
      refuse(conn, 408, "Request Timeout", "the request's headers did not arrive within --header-timeout",
             "send the whole request at once");
    else if (conn.phase == Conn::Phase::kBody)
      refuse(conn, 408, "Request Timeout", "the request's body did not arrive within --body-timeout",
             "send the whole request at once");
  }

  void loop() {
    std::list<ConnPtr> waiting;
    std::vector<pollfd> fds;
    std::vector<Conn*> order;
    while (!stopping_) {
      const auto now = Clock::now();
      {
        std::vector<ConnPtr> arrived;
        {
          std::lock_guard<std::mutex> lock(inbox_mutex_);
          arrived.swap(inbox_);
        }
        for (ConnPtr& conn : arrived) {
          // A readmitted connection may hold its next request already (pipelined).
          const Next next = conn->phase == Conn::Phase::kHandshake ? Next::kWait : judge(*conn, now);
          if (next == Next::kDispatch) dispatch(conn, now);
          else if (next == Next::kWait) waiting.push_back(std::move(conn));
        }
      }
      fds.clear();
      order.clear();
      fds.push_back(pollfd{wake_, POLLIN, 0});
      int timeout = 1000;
      for (const ConnPtr& conn : waiting) {
        fds.push_back(pollfd{conn->fd, conn->wants, 0});
        order.push_back(conn.get());
        timeout = std::min(timeout, millis_until(conn->deadline, now));
      }
      const int ready = poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno != EINTR) {
        std::cerr << "multidb-web: poll: " << std::strerror(errno) << "\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (fds[0].revents) {
        uint64_t count;
        while (::read(wake_, &count, sizeof count) > 0) {
        }
      }
      const auto after = Clock::now();
      size_t i = 1;
      for (auto it = waiting.begin(); it != waiting.end(); i++) {
        Conn& conn = **it;
        Next next = Next::kWait;
        if (ready > 0 && fds[i].revents) next = advance(conn, after);
        if (next == Next::kWait && after >= conn.deadline) {
          expire(conn);
          next = Next::kClose;
        }
        if (next == Next::kWait) {
          ++it;
          continue;
        }
        if (next == Next::kDispatch) dispatch(*it, after);
        it = waiting.erase(it);
      }
    }
  }

  const ServerLimits limits_;
  SSL_CTX* tls_;
  Serve serve_;
  int wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::mutex inbox_mutex_;
  std::vector<ConnPtr> inbox_;
  httplib::ThreadPool workers_;
  std::thread thread_;
};

namespace {

// The accepting thread runs each accepted socket's task at once: admitting it to the gate takes microseconds.
class AdmitAtOnce : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// The task queue of a server that starts listening. cpp-httplib listens with a backlog of 5, so that a burst of
// connections (the SYNs beyond it dropped, retried by the clients a second later) would wait for nothing: the
// backlog is widened to the system's maximum first.
httplib::TaskQueue* start_admitting(socket_t listening) {
  ::listen(listening, SOMAXCONN);
  return new AdmitAtOnce;
}

class GatedServer : public httplib::Server {
 public:
  explicit GatedServer(const ServerLimits& limits)
      : gate_(std::make_unique<ConnectionGate>(limits, nullptr,
                                               [this](httplib::Stream& strm, bool close, bool& closed) {
                                                 return process_request(strm, close, closed, nullptr);
                                               })) {
    new_task_queue = [this] { return start_admitting(svr_sock_); };
  }
  ~GatedServer() override { gate_.reset(); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    gate_->admit(sock);
    return true;
  }
  std::unique_ptr<ConnectionGate> gate_;
};

class GatedTlsServer : public httplib::SSLServer {
 public:
  GatedTlsServer(const ServerLimits& limits, const std::string& cert, const std::string& key)
      : httplib::SSLServer(cert.c_str(), key.c_str()) {
    if (httplib::SSLServer::is_valid())
      gate_ = std::make_unique<ConnectionGate>(limits, ssl_context(),
                                               [this](httplib::Stream& strm, bool close, bool& closed) {
                                                 return process_request(strm, close, closed, nullptr);
                                               });
    new_task_queue = [this] { return start_admitting(svr_sock_); };
  }
  ~GatedTlsServer() override { gate_.reset(); }
  bool is_valid() const override { return gate_ != nullptr; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    gate_->admit(sock);
    return true;
  }
  std::unique_ptr<ConnectionGate> gate_;
};

}  // namespace

std::unique_ptr<httplib::Server> make_server(const ServerLimits& limits, const std::string& tls_cert,
                                             const std::string& tls_key, std::string* error) {
  if (tls_cert.empty()) return std::make_unique<GatedServer>(limits);
  auto server = std::make_unique<GatedTlsServer>(limits, tls_cert, tls_key);
  if (!server->is_valid()) {
    *error = "cannot use --tls-cert " + tls_cert + " with --tls-key " + tls_key;
    return nullptr;
  }
  return server;
}

}  // namespace multidb::gateway
