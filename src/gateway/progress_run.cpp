// A statement run asynchronously, its progress NOTICEs relayed as they arrive, cancelled on request.
#include "gateway/progress_run.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <utility>
#include <vector>

#include "gateway/event_stream.hpp"

namespace multidb::gateway {

namespace {

// How long a cancelled statement may take to end before its connection is dropped.
constexpr auto kCancelGrace = std::chrono::seconds(30);

struct Collected {
  std::vector<std::pair<std::string, nlohmann::json>> events;
};

// libpq calls this (from PQconsumeInput / PQgetResult, in this thread) for every NOTICE; nothing may throw
// out of it into libpq.
void collect_notice(void* arg, const PGresult* res) {
  try {
    const char* message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (!message || !detail) return;
    auto event = progress_event(message, detail);
    if (event && static_cast<Collected*>(arg)->events.size() < 100000)
      static_cast<Collected*>(arg)->events.push_back(std::move(*event));
  } catch (...) {
  }
}

// Restores the connection's own notice receiver however the run ends.
struct ReceiverScope {
  PGconn* conn;
  PQnoticeReceiver previous;
  ReceiverScope(PGconn* c, Collected* collected) : conn(c), previous(PQsetNoticeReceiver(c, collect_notice, collected)) {}
  ~ReceiverScope() { PQsetNoticeReceiver(conn, previous, nullptr); }
};

}  // namespace

Rows run_with_progress(PGconn* conn, const char* sql, const Params& params, const ProgressHooks& hooks,
                       std::chrono::milliseconds poll_interval) {
  Collected collected;
  ReceiverScope scope(conn, &collected);
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (!PQsendQueryParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
    return take_rows(conn, nullptr);

  auto flush = [&] {
    for (auto& event : collected.events) hooks.on_event(event.first, event.second);
    collected.events.clear();
  };
  bool cancel_sent = false;
  std::chrono::steady_clock::time_point cancelled_at;
  PGresult* last = nullptr;
  for (;;) {
    flush();
    if (cancel_sent && std::chrono::steady_clock::now() - cancelled_at > kCancelGrace) {
      // The coordinator did not end the statement after the cancel request: drop the connection (libpq then
      // reports it broken, and the pool makes a new one) rather than wait for it.
      shutdown(PQsocket(conn), SHUT_RDWR);
      PQconsumeInput(conn);
      break;
    }
    if (!cancel_sent && !hooks.go_on()) {
      cancel_sent = true;
      cancelled_at = std::chrono::steady_clock::now();
      if (PGcancel* cancel = PQgetCancel(conn)) {
        char why[256];
        PQcancel(cancel, why, sizeof why);
        PQfreeCancel(cancel);
      }
    }
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    if (pfd.fd < 0) break;
    int ready = poll(&pfd, 1, static_cast<int>(poll_interval.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (!PQconsumeInput(conn)) break;
    bool finished = false;
    while (!PQisBusy(conn)) {
      PGresult* res = PQgetResult(conn);
      if (!res) {
        finished = true;
        break;
      }
      if (last) PQclear(last);
      last = res;
    }
    if (finished) break;
  }
  flush();
  if (PQstatus(conn) != CONNECTION_OK || !last) {
    if (last) PQclear(last);
    return take_rows(conn, nullptr);
  }
  return take_rows(conn, last);
}

}  // namespace multidb::gateway
