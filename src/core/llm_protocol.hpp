// The chat protocols multidb speaks, as the real services speak them: OpenAI-compatible /chat/completions
// (OpenAI, Azure both ways, and every server that copies it) and Anthropic's /v1/messages. Requests are built
// from a config (core/llm_config.hpp); replies are read as they really come — reasoning before the answer,
// content as parts, errors inside an HTTP 200, replies cut at the token limit, refusals.
#pragma once

#include "core/llm_config.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace multidb {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;
  std::string body;
};

class LlmError : public std::runtime_error {
 public:
  enum class Kind {
    kFailed,                // nothing to do but report it
    kRetryable,             // the service says: try again (rate limits, overload, 5xx, an error inside a 200)
    kUnsupportedParameter,  // a 400 naming max_tokens or temperature as not supported by this model
    kCutOff,                // the reply stopped at the token limit
    kRefused,               // the model refused, or the provider's content filter stopped it
  };
  explicit LlmError(const std::string& message, Kind kind = Kind::kFailed, std::string parameter = "")
      : std::runtime_error(message), kind_(kind), parameter_(std::move(parameter)) {}
  Kind kind() const { return kind_; }
  const std::string& parameter() const { return parameter_; }  // with kUnsupportedParameter

 private:
  Kind kind_;
  std::string parameter_;
};

// One system message first (every system text joined), then user and assistant turns alternating, none empty:
// some chat templates refuse a second system message or two turns of one role, and Anthropic refuses an empty
// turn. Turns of one role in a row are joined; empty ones are left out.
std::vector<ChatMessage> well_formed_conversation(const std::vector<ChatMessage>& messages);

// The endpoint, headers and body for the provider. A pasted full endpoint (…/chat/completions,
// …/v1/messages, an Azure deployment URL with its api-version) is used as it is.
HttpRequest build_llm_request(const LlmConfig& config, const std::vector<ChatMessage>& messages);

struct LlmReply {
  std::string text;   // the final answer, reasoning removed
  std::string model;  // as the reply names it (for history only: gateways answer with names one cannot request)
  long prompt_tokens = -1;  // -1: the reply did not say, or said something that is no count
  long completion_tokens = -1;
};

// Throws LlmError naming the provider, the HTTP status and the start of the body; never the key.
LlmReply parse_llm_reply(const LlmConfig& config, long http_status, const std::string& body);

// The final answer of a text that may start with the model's reasoning: "<think>…</think>answer", also with the
// opening tag missing ("…</think>answer", as some chat templates print it). Throws LlmError kCutOff when the
// reasoning never ends.
std::string without_reasoning(const std::string& text);

// The statuses the official SDKs retry: 408, 409, 429 and every 5xx (Anthropic's 529 "overloaded" too).
bool retryable_status(long status);

// The start of a text for a message: at most max_bytes, "..." when cut.
std::string text_start(const std::string& text, size_t max_bytes = 200);

}  // namespace multidb
