// A coordinator statement run asynchronously under a deadline, its progress NOTICEs relayed as they arrive,
// cancelled on request.
#include "gateway/progress_run.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/api_error.hpp"
#include "gateway/event_stream.hpp"

namespace multidb::gateway {

namespace {

using Clock = std::chrono::steady_clock;

// How long a statement cancelled by its caller may take to end before its connection is dropped.
constexpr auto kCancelGrace = std::chrono::seconds(30);
// How long a statement cancelled at its deadline may take to end: a coordinator that answers ends it at once.
constexpr auto kDeadlineGrace = std::chrono::seconds(2);
constexpr int kMaxCancelThreads = 8;

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

// A notice nobody reads (a plain request's statements): dropped rather than printed to the gateway's stderr.
void ignore_notice(void*, const PGresult*) {}

// Restores the connection's own notice receiver however the run ends.
struct ReceiverScope {
  PGconn* conn;
  PQnoticeReceiver previous;
  ReceiverScope(PGconn* c, PQnoticeReceiver receiver, void* arg) : conn(c), previous(PQsetNoticeReceiver(c, receiver, arg)) {}
  ~ReceiverScope() { PQsetNoticeReceiver(conn, previous, nullptr); }
};

std::atomic<int> g_cancels_in_flight{0};

}  // namespace

bool send_cancel(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (!cancel) return false;
  if (g_cancels_in_flight.fetch_add(1) >= kMaxCancelThreads) {
    g_cancels_in_flight--;
    PQfreeCancel(cancel);
    return false;
  }
  try {
    std::thread([cancel] {
      char why[256];
      PQcancel(cancel, why, sizeof why);
      PQfreeCancel(cancel);
      g_cancels_in_flight--;
    }).detach();
    return true;
  } catch (const std::system_error&) {
    g_cancels_in_flight--;
    PQfreeCancel(cancel);
    return false;
  }
}

ApiError statement_timed_out(const char* timeout_flag) {
  return ApiError(504, std::string("the coordinator did not finish a statement of this request within ") + timeout_flag,
                  "try again; a request that needs longer needs a gateway started with a larger " +
                      std::string(timeout_flag),
                  "57014");
}

Rows run_with_progress(PGconn* conn, const char* sql, const Params& params, const ProgressHooks& hooks,
                       std::chrono::milliseconds poll_interval) {
  Collected collected;
  ReceiverScope scope(conn, hooks.on_event ? collect_notice : ignore_notice, &collected);
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (!PQsendQueryParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
    return take_rows(conn, nullptr);

  auto flush = [&] {
    if (hooks.on_event)
      for (auto& event : collected.events) hooks.on_event(event.first, event.second);
    collected.events.clear();
  };
  bool cancel_sent = false, timed_out = false, dropped = false, drop_now = false;
  Clock::time_point cancelled_at;
  PGresult* last = nullptr;
  for (;;) {
    flush();
    const auto now = Clock::now();
    if (cancel_sent &&
        (drop_now || now - cancelled_at > (timed_out ? Clock::duration(kDeadlineGrace) : Clock::duration(kCancelGrace)))) {
      // The coordinator did not end the statement after the cancel request: drop the connection (libpq then
      // reports it broken, and the pool makes a new one) rather than wait for it.
      shutdown(PQsocket(conn), SHUT_RDWR);
      PQconsumeInput(conn);
      dropped = true;
      break;
    }
    if (!cancel_sent && (now >= hooks.deadline || (hooks.go_on && !hooks.go_on()))) {
      timed_out = now >= hooks.deadline;
      cancel_sent = true;
      cancelled_at = now;
      // No cancel sent (many readers left at once, 8 cancels already in flight): drop the connection now rather
      // than let the ask run on for the grace (200 streams closed together left asks running for 30 s).
      drop_now = !send_cancel(conn);
      continue;
    }
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    if (pfd.fd < 0) break;
    auto wait = poll_interval;
    if (!cancel_sent && hooks.deadline != Clock::time_point::max())
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(hooks.deadline - now) +
                                std::chrono::milliseconds(1));
    int ready = poll(&pfd, 1, static_cast<int>(std::max<long>(0, wait.count())));
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
  if (timed_out) {
    // A statement that ended by itself just as the deadline came is kept; one the cancel ended, or whose
    // connection was dropped, is the request's 504.
    const bool ended_well = !dropped && last && PQstatus(conn) == CONNECTION_OK &&
                            (PQresultStatus(last) == PGRES_TUPLES_OK || PQresultStatus(last) == PGRES_COMMAND_OK);
    if (!ended_well) {
      if (last) PQclear(last);
      throw statement_timed_out(hooks.timeout_flag);
    }
  }
  if (PQstatus(conn) != CONNECTION_OK || !last) {
    if (last) PQclear(last);
    return take_rows(conn, nullptr);
  }
  return take_rows(conn, last);
}

}  // namespace multidb::gateway
