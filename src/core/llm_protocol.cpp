#include "core/llm_protocol.hpp"

#include "core/text.hpp"

#include <climits>
#include <nlohmann/json.hpp>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using nlohmann::json;

std::string without_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void fail(const LlmConfig& config, long status, const std::string& what, const std::string& body) {
  std::string message = config.provider + " " + what + " (HTTP " + std::to_string(status) + "): " + text_start(body);
  // A server echoing the request could quote the key back: never pass it on. The search resumes after each
  // replacement, which may itself contain the key ("key", "<key>").
  const std::string hidden = "<key>";
  if (!config.api_key.empty())
    for (size_t at = 0; (at = message.find(config.api_key, at)) != std::string::npos; at += hidden.size())
      message.replace(at, config.api_key.size(), hidden);
  throw LlmError(message);
}

// A token count as the provider gave it, if it is one: anything else (a string, 1e300, -1, 3e9) is unknown.
long token_count(const json& usage, const char* key) {
  if (!usage.is_object()) return -1;
  auto found = usage.find(key);
  if (found == usage.end() || !found->is_number()) return -1;
  return static_cast<long>(bounded_count(found->get<double>(), INT_MAX));
}

}  // namespace

std::string text_start(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return valid_utf8(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut--;  // not inside a UTF-8 character
  return valid_utf8(std::string_view(text).substr(0, cut)) + "...";
}

HttpRequest build_llm_request(const LlmConfig& config, const std::vector<ChatMessage>& messages) {
  HttpRequest request;
  std::string base = without_trailing_slashes(config.url);
  request.headers.push_back("Content-Type: application/json");
  if (config.provider == "openai") {
    request.url = base + "/chat/completions";
    if (!config.api_key.empty()) request.headers.push_back("Authorization: Bearer " + config.api_key);
    json list = json::array();
    for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    request.body = json{{"model", config.model}, {"messages", list}, {"temperature", 0}, {"max_tokens", config.max_tokens}}.dump();
  } else if (config.provider == "anthropic") {
    request.url = ends_with(base, "/v1") ? base + "/messages" : base + "/v1/messages";
    if (!config.api_key.empty()) request.headers.push_back("x-api-key: " + config.api_key);
    request.headers.push_back("anthropic-version: 2023-06-01");
    std::string system;
    json list = json::array();
    for (const ChatMessage& m : messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n\n") + m.content;
      } else {
        list.push_back({{"role", m.role}, {"content", m.content}});
      }
    }
    request.body = json{{"model", config.model}, {"max_tokens", config.max_tokens}, {"system", system},
                        {"messages", list}, {"temperature", 0}}
                       .dump();
  } else {
    throw LlmError("unknown LLM provider \"" + config.provider + "\" (use openai or anthropic)");
  }
  return request;
}

LlmReply parse_llm_reply(const LlmConfig& config, long http_status, const std::string& body) {
  json document;
  try {
    document = json::parse(body);
  } catch (const json::exception&) {
    if (http_status < 200 || http_status > 299) fail(config, http_status, "returned an error", body);
    fail(config, http_status, "reply is not JSON", body);
  }
  if (http_status < 200 || http_status > 299) {
    const json* error = document.is_object() && document.contains("error") ? &document["error"] : nullptr;
    if (error != nullptr && error->is_object() && error->contains("message") && (*error)["message"].is_string())
      fail(config, http_status, "returned an error", (*error)["message"].get<std::string>());
    fail(config, http_status, "returned an error", body);
  }
  LlmReply reply;
  try {
    if (config.provider == "anthropic") {
      bool any = false;
      for (const json& block : document.at("content"))
        if (block.value("type", "") == "text") {
          reply.text += block.at("text").get<std::string>();
          any = true;
        }
      if (!any) fail(config, http_status, "reply is not of the expected form (no content[].text)", body);
      if (document.contains("usage")) {
        reply.prompt_tokens = token_count(document["usage"], "input_tokens");
        reply.completion_tokens = token_count(document["usage"], "output_tokens");
      }
    } else {
      const json& content = document.at("choices").at(0).at("message").at("content");
      if (!content.is_string()) fail(config, http_status, "reply is not of the expected form (no choices[0].message.content)", body);
      reply.text = content.get<std::string>();
      if (document.contains("usage")) {
        reply.prompt_tokens = token_count(document["usage"], "prompt_tokens");
        reply.completion_tokens = token_count(document["usage"], "completion_tokens");
      }
    }
    if (document.contains("model") && document["model"].is_string()) reply.model = document["model"].get<std::string>();
  } catch (const json::exception&) {
    fail(config, http_status,
         config.provider == "anthropic" ? "reply is not of the expected form (no content[].text)"
                                        : "reply is not of the expected form (no choices[0].message.content)",
         body);
  }
  return reply;
}

}  // namespace multidb
