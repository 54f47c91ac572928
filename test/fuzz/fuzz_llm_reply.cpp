// libFuzzer: an LLM's HTTP reply as it comes (status and body), for both providers.
// The first byte picks the provider and the status class; the rest is the body.
#include "core/llm_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  multidb::LlmConfig config;
  config.provider = (data[0] & 1) ? "anthropic" : "openai";
  config.url = "http://127.0.0.1/v1";
  config.model = "m";
  config.api_key = (data[0] & 2) ? "key" : "";
  long statuses[] = {200, 201, 400, 401, 429, 500, 529, 302};
  long status = statuses[(data[0] >> 2) & 7];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    multidb::LlmReply reply = multidb::parse_llm_reply(config, status, body);
    (void)reply;
  } catch (const multidb::LlmError&) {
  }
  return 0;
}
