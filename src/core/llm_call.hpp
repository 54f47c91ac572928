// One LLM call as the official SDKs make it: retries of what the service says is passing (connection errors,
// 408, 409, 429, 5xx, Anthropic's 529, an error inside an HTTP 200), with jittered exponential backoff or the
// wait the service asks for (retry-after-ms, retry-after), all within the server's timeout budget; a model
// that rejects max_tokens or temperature is asked once more without it, and the caller is told to set the
// option. The transport is passed in, so the policy is tested without a network or a clock.
#pragma once

#include "core/http_client.hpp"
#include "core/llm_protocol.hpp"

#include <functional>
#include <string>
#include <vector>

namespace multidb {

// multidb.llm_retries' default: the SDKs' own.
constexpr int kDefaultLlmRetries = 2;

// One HTTP request of a call, for the history.
struct LlmAttempt {
  long status = 0;     // HTTP status; 0 when no answer came (a connection error)
  std::string error;   // empty for the attempt that gave the reply
  long waited_ms = 0;  // the pause before this attempt
};

struct LlmTransport {
  std::function<HttpResponse(const HttpRequest& request, long timeout_ms)> post;
  std::function<void(long ms)> sleep;  // may throw HttpError kAborted (Ctrl-C, statement_timeout)
  std::function<long()> now_ms;        // a steady clock
  std::function<long()> now_epoch_s;   // the wall clock, for a retry-after given as an HTTP date
  std::function<double()> random_unit; // in [0, 1), for the jitter
};

// The pause before retry number retry (0 for the first retry): what the response asks for when that is more
// than 0 and at most 60 s, else 0.5 s doubling up to 8 s, less up to a quarter at random (as openai-python).
long retry_delay_ms(int retry, long asked_ms, double random_unit);

// Sends the conversation and reads the reply, retrying at most max_retries times. attempts receives every
// request made (also when it throws); notices what the caller should tell the user. Throws LlmError or
// HttpError as the last attempt failed, its message saying how many attempts were made.
LlmReply call_llm(LlmConfig config, const std::vector<ChatMessage>& messages, int max_retries,
                  const LlmTransport& transport, std::vector<LlmAttempt>& attempts, std::vector<std::string>& notices);

}  // namespace multidb
