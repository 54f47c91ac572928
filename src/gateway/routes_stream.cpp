// Live progress over HTTP: an ask with Accept: text/event-stream answered as Server-Sent Events while it runs
// (its run id first, then every progress event as the coordinator sends it, then the result or the error),
// and DELETE /api/runs/{id}, which cancels a run of the caller's. A reader that goes away cancels its run too:
// while the ask runs the stream writes an empty comment each second, and the first write that fails cancels
// the ask on the coordinator (PQcancel), which cancels its remote statements and records it as cancelled.
#include <chrono>
#include <iostream>

#include "gateway/api_error.hpp"
#include "gateway/ask_stream.hpp"
#include "gateway/event_stream.hpp"
#include "gateway/progress_run.hpp"

namespace multidb::gateway {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kProbeEvery = std::chrono::seconds(1);       // an empty comment: notices a reader that left
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);  // ": keep-alive", for proxies
constexpr auto kPollInterval = std::chrono::milliseconds(20);

// Writes one stream's events; once a write fails the reader is gone and nothing more is written.
class EventWriter {
 public:
  explicit EventWriter(httplib::DataSink& sink) : sink_(sink), last_write_(Clock::now()), last_keep_alive_(last_write_) {}
  void send(const std::string& text) {
    if (gone_) return;
    if (!sink_.write(text.data(), text.size())) gone_ = true;
    last_write_ = Clock::now();
  }
  void event(const std::string& name, const json& data) { send(sse_event(name, data)); }
  // Between events: the keep-alive comment every 15 s, an empty comment line after a second of silence.
  void idle() {
    const auto now = Clock::now();
    if (now - last_keep_alive_ >= kKeepAliveEvery) {
      last_keep_alive_ = now;
      send(sse_keep_alive());
    } else if (now - last_write_ >= kProbeEvery) {
      send(":\n");
    }
  }
  bool gone() const { return gone_; }

 private:
  httplib::DataSink& sink_;
  bool gone_ = false;
  Clock::time_point last_write_, last_keep_alive_;
};

json error_event(const ApiError& e) {
  json body = e.body();
  body["status"] = e.status;
  return body;
}

}  // namespace

Reply stream_ask(Gateway& gateway, const Caller& caller, const Ask& ask) {
  std::shared_ptr<void> stream_slot = gateway.runs().stream_slot();
  if (!stream_slot)
    throw ApiError(503, "every live-progress stream of the gateway is in use",
                   "try again shortly, ask without Accept: text/event-stream, or start the gateway with a larger "
                   "--max-streams",
                   "53300");
  std::shared_ptr<Run> run = gateway.runs().start(caller.role);
  Reply reply;
  reply.stream = [&gateway, caller, ask, stream_slot, run](httplib::Response& response) {
    response.status = 200;
    response.set_header("Cache-Control", "no-cache");
    response.set_header("X-Accel-Buffering", "no");
    response.set_chunked_content_provider(
        "text/event-stream", [&gateway, caller, ask, stream_slot, run](size_t, httplib::DataSink& sink) {
          EventWriter out(sink);
          out.event("run", json{{"run_id", run->id}});
          ProgressHooks hooks;
          hooks.on_event = [&out](const std::string& name, const json& data) { out.event(name, data); };
          hooks.go_on = [&out, &run] {
            out.idle();
            return !out.gone() && !run->cancel;
          };
          auto with_progress = [&hooks](RoleTransaction& tx, const char* sql, const Params& params,
                                        const ProgressObserver& observe) {
            ProgressHooks bounded = hooks;
            bounded.on_event = [&hooks, &observe](const std::string& name, const json& data) {
              observe(name, data);
              hooks.on_event(name, data);
            };
            bounded.deadline = Clock::now() + tx.timeout();
            return run_with_progress(tx.connection(), sql, params, bounded, kPollInterval);
          };
          try {
            json result = run_ask(gateway, caller, ask, with_progress);
            out.event("result", result);
          } catch (const ApiError& e) {
            out.event("error", error_event(e));
          } catch (const BodyError& e) {
            ApiError error(400, e.what(), "see the endpoint's fields in the README's \"Over HTTP\"");
            error.field = e.field();
            out.event("error", error_event(error));
          } catch (const std::exception& e) {
            std::cerr << "multidb-web: streamed ask: " << e.what() << "\n";
            out.event("error", error_event(ApiError(500, "the gateway failed on this request", "", "", e.what())));
          }
          if (out.gone()) return false;
          sink.done();
          return true;
        });
  };
  return reply;
}

void install_run_routes(httplib::Server& server, Gateway& gateway) {
  gateway.route(server, "DELETE", R"(/api/runs/([^/]+))", true,
                [&gateway](const Caller& caller, const httplib::Request& request) {
    const std::string id = request.matches[1];
    if (id.size() > 64 || !gateway.runs().cancel(id, caller.role))
      throw ApiError(404, "run " + id.substr(0, 64) + " does not exist or has ended",
                     "a run's id is the first event (run) of an ask streamed with Accept: text/event-stream", "42704");
    return Reply{202, json{{"run_id", id}, {"status", "cancelling"}}};
  }, false);
}

}  // namespace multidb::gateway
