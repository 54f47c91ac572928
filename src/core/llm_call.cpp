#include "core/llm_call.hpp"

#include <algorithm>
#include <cmath>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr long kInitialRetryDelayMs = 500;
constexpr long kMaxRetryDelayMs = 8000;
constexpr long kLongestAskedDelayMs = 60000;

std::string attempts_said(const std::vector<LlmAttempt>& attempts) {
  return attempts.size() > 1 ? " (after " + std::to_string(attempts.size()) + " attempts)" : "";
}

}  // namespace

long retry_delay_ms(int retry, long asked_ms, double random_unit) {
  if (asked_ms > 0 && asked_ms <= kLongestAskedDelayMs) return asked_ms;
  double delay = std::min(kInitialRetryDelayMs * std::pow(2.0, std::min(retry, 30)), double(kMaxRetryDelayMs));
  return std::max(0L, static_cast<long>(delay * (1 - 0.25 * random_unit)));
}

LlmReply call_llm(LlmConfig config, const std::vector<ChatMessage>& messages, int max_retries,
                  const LlmTransport& transport, std::vector<LlmAttempt>& attempts, std::vector<std::string>& notices) {
  const long deadline = transport.now_ms() + config.timeout_ms;
  int retries = 0;
  bool temperature_dropped = false, limit_changed = false;
  long waited = 0;
  for (;;) {
    long left = std::max(1L, deadline - transport.now_ms());
    LlmAttempt attempt;
    attempt.waited_ms = waited;
    HttpResponse response;
    long asked_ms = -1;
    // What ended this attempt, if it is the last.
    std::string failure;
    bool http_failure = false;
    HttpError::Kind http_kind = HttpError::Kind::kTransport;
    LlmError::Kind llm_kind = LlmError::Kind::kFailed;
    bool retry = false;
    try {
      response = transport.post(build_llm_request(config, messages), left);
      attempt.status = response.status;
      LlmReply reply = parse_llm_reply(config, response.status, response.body);
      attempts.push_back(attempt);
      return reply;
    } catch (const LlmError& e) {
      attempt.error = e.what();
      attempts.push_back(attempt);
      if (e.kind() == LlmError::Kind::kUnsupportedParameter) {
        if (e.parameter() == "temperature" && config.temperature && !temperature_dropped) {
          config.temperature.reset();
          temperature_dropped = true;
          notices.push_back("the model does not take temperature; multidb asked again without it. Set the LLM "
                            "server's option temperature 'none' to save that request.");
          waited = 0;
          continue;
        }
        if (e.parameter() == "max_tokens" && !limit_changed && config.token_limit_field == TokenLimitField::kMaxTokens) {
          config.token_limit_field = TokenLimitField::kMaxCompletionTokens;
          limit_changed = true;
          notices.push_back("the model does not take max_tokens; multidb asked again with max_completion_tokens. Set "
                            "the LLM server's option token_limit_field 'max_completion_tokens' to save that request.");
          waited = 0;
          continue;
        }
      }
      failure = e.what();
      llm_kind = e.kind();
      retry = e.kind() == LlmError::Kind::kRetryable;
      if (const std::string* should = response.header("x-should-retry")) retry = *should == "true";
      asked_ms = retry_after_ms(response, transport.now_epoch_s());
    } catch (const HttpError& e) {
      attempt.error = e.what();
      attempts.push_back(attempt);
      failure = e.what();
      http_failure = true;
      http_kind = e.kind();
      retry = e.kind() == HttpError::Kind::kTransport;  // a timeout has used the whole budget already
    }
    auto give_up = [&](const std::string& why) {
      std::string message = failure + attempts_said(attempts) + why;
      if (http_failure) throw HttpError(http_kind, message);
      throw LlmError(message, llm_kind);
    };
    if (!retry || retries >= max_retries) give_up("");
    waited = retry_delay_ms(retries, asked_ms, transport.random_unit());
    if (transport.now_ms() + waited >= deadline)
      give_up("; no time was left in the LLM server's timeout (" + std::to_string(config.timeout_ms) +
              " ms) to wait " + std::to_string(waited) + " ms and try again");
    transport.sleep(waited);
    retries++;
  }
}

}  // namespace multidb
