// The two chat protocols multidb speaks: OpenAI-compatible /chat/completions and Anthropic /v1/messages.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace multidb {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

struct LlmConfig {
  std::string provider;  // openai, anthropic
  std::string url;       // base URL
  std::string model;
  std::string api_key;
  long timeout_ms = 60000;
  int max_tokens = 2048;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;
  std::string body;
};

class LlmError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

HttpRequest build_llm_request(const LlmConfig& config, const std::vector<ChatMessage>& messages);

struct LlmReply {
  std::string text;
  std::string model;
  long prompt_tokens = -1;  // -1: the reply did not say, or said something that is no count
  long completion_tokens = -1;
};

// Throws LlmError naming the provider, the HTTP status and the start of the body; never the key.
LlmReply parse_llm_reply(const LlmConfig& config, long http_status, const std::string& body);

// The start of a text for a message: at most max_bytes, "..." when cut.
std::string text_start(const std::string& text, size_t max_bytes = 200);

}  // namespace multidb
