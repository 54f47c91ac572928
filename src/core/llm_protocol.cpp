#include "core/llm_protocol.hpp"

#include "core/text.hpp"

#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
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

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string trim_start(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? "" : text.substr(start);
}

std::string hide_key(const LlmConfig& config, std::string message) {
  // A server echoing the request could quote the key back: never pass it on. The search resumes after each
  // replacement, which may itself contain the key ("key", "<key>").
  const std::string hidden = "<key>";
  if (!config.api_key.empty())
    for (size_t at = 0; (at = message.find(config.api_key, at)) != std::string::npos; at += hidden.size())
      message.replace(at, config.api_key.size(), hidden);
  return message;
}

[[noreturn]] void fail(const LlmConfig& config, long status, const std::string& what, const std::string& body,
                       LlmError::Kind kind = LlmError::Kind::kFailed, const std::string& parameter = "") {
  throw LlmError(hide_key(config, config.provider + " " + what + " (HTTP " + std::to_string(status) + "): " +
                                      text_start(body)),
                 kind, parameter);
}

// A token count as the provider gave it, if it is one: anything else (a string, 1e300, -1, 3e9) is unknown.
long token_count(const json& usage, const char* key) {
  if (!usage.is_object()) return -1;
  auto found = usage.find(key);
  if (found == usage.end() || !found->is_number()) return -1;
  return static_cast<long>(bounded_count(found->get<double>(), INT_MAX));
}

// The JSON schema of a plan, for response_format json_schema. Strict mode needs every property required, so
// "combine" is always there: "" means none (core/plan_parser.cpp reads it so). A query names one database or a
// set of them ("databases": groups '@g', names, or "*"), as the parser reads either.
json plan_schema() {
  json one = {{"type", "object"},
              {"properties", {{"database", {{"type", "string"}}}, {"sql", {{"type", "string"}}}}},
              {"required", {"database", "sql"}},
              {"additionalProperties", false}};
  json set = {{"type", "object"},
              {"properties", {{"databases", {{"type", "array"}, {"items", {{"type", "string"}}}}}, {"sql", {{"type", "string"}}}}},
              {"required", {"databases", "sql"}},
              {"additionalProperties", false}};
  json query = {{"anyOf", {one, set}}};
  json schema = {{"type", "object"},
                 {"properties",
                  {{"queries", {{"type", "array"}, {"items", query}}},
                   {"combine", {{"type", "string"}}},
                   {"explanation", {{"type", "string"}}}}},
                 {"required", {"queries", "combine", "explanation"}},
                 {"additionalProperties", false}};
  return {{"type", "json_schema"}, {"json_schema", {{"name", "multidb_plan"}, {"strict", true}, {"schema", schema}}}};
}

// An endpoint that already names its path is used as it is; a base URL gets the path.
std::string endpoint(const std::string& url, const std::string& path) {
  std::string base = without_trailing_slashes(url);
  std::string without_query = base.substr(0, base.find('?'));
  return ends_with(without_query, path) ? base : base + path;
}

struct AzureEndpoint {
  std::string url;
  bool deployment_url;  // the classic form: api-version in the query, the key in an api-key header
};

AzureEndpoint azure_endpoint(const LlmConfig& config) {
  std::string base = without_trailing_slashes(config.url);
  if (contains(base, "/openai/deployments/")) {
    std::string url = endpoint(base, "/chat/completions");
    if (!contains(url, "api-version=")) url += (contains(url, "?") ? "&" : "?") + std::string("api-version=") + config.api_version;
    return {url, true};
  }
  // The v1 API: …/openai/v1, or the bare resource URL.
  if (!contains(base, "/openai/v1") && !contains(base, "/chat/completions")) base += "/openai/v1";
  return {endpoint(base, "/chat/completions"), false};
}

void add_openai_body_options(const LlmConfig& config, json& body) {
  if (config.temperature) body["temperature"] = *config.temperature;
  if (config.token_limit_field == TokenLimitField::kMaxTokens) body["max_tokens"] = config.max_tokens;
  if (config.token_limit_field == TokenLimitField::kMaxCompletionTokens) body["max_completion_tokens"] = config.max_tokens;
  if (config.response_format == ResponseFormat::kJsonObject) body["response_format"] = {{"type", "json_object"}};
  if (config.response_format == ResponseFormat::kJsonSchema) body["response_format"] = plan_schema();
}

// What a service says went wrong, wherever it says it: {"error": {...}} (OpenAI, Anthropic, OpenRouter inside a
// 200), {"error": "text"} (LM Studio), [{"error": {...}}] (Gemini).
struct ServiceError {
  bool found = false;
  std::string message;
  long code = 0;  // a numeric code the body gave, 0 if none
  std::string type, parameter;
};

ServiceError service_error(const json& document) {
  ServiceError found;
  const json* error = nullptr;
  if (document.is_object() && document.contains("error")) error = &document["error"];
  else if (document.is_array() && !document.empty() && document[0].is_object() && document[0].contains("error"))
    error = &document[0]["error"];
  if (error == nullptr || error->is_null()) return found;
  found.found = true;
  if (error->is_string()) {
    found.message = error->get<std::string>();
    return found;
  }
  if (!error->is_object()) {
    found.message = error->dump();
    return found;
  }
  found.message = error->contains("message") && (*error)["message"].is_string() ? (*error)["message"].get<std::string>()
                                                                               : error->dump();
  if (error->contains("code")) {
    const json& code = (*error)["code"];
    if (code.is_number_integer()) found.code = code.get<long>();
    else if (code.is_string()) found.code = std::strtol(code.get<std::string>().c_str(), nullptr, 10);
  }
  if (error->contains("type") && (*error)["type"].is_string()) found.type = (*error)["type"].get<std::string>();
  if (error->contains("param") && (*error)["param"].is_string()) found.parameter = (*error)["param"].get<std::string>();
  return found;
}

// A 400 that names max_tokens or temperature as what this model does not take.
std::string unsupported_parameter(long status, const ServiceError& error) {
  if (status != 400 && status != 422) return "";
  std::string text = error.message;
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool says_unsupported = contains(text, "unsupported") || contains(text, "not supported") ||
                          contains(text, "does not support") || contains(text, "not allowed") ||
                          contains(text, "deprecated") || contains(text, "cannot");
  for (const char* parameter : {"max_tokens", "temperature"})
    if (error.parameter == parameter || (says_unsupported && contains(text, parameter))) return parameter;
  return "";
}

[[noreturn]] void fail_with_service_error(const LlmConfig& config, long status, const ServiceError& error,
                                          const std::string& body) {
  long effective = status >= 200 && status <= 299 && error.code > 0 ? error.code : status;
  bool retry = retryable_status(effective) || error.type == "overloaded_error" || error.type == "rate_limit_error" ||
               error.type == "api_error";
  std::string parameter = unsupported_parameter(status, error);
  LlmError::Kind kind = !parameter.empty() ? LlmError::Kind::kUnsupportedParameter
                        : retry            ? LlmError::Kind::kRetryable
                                           : LlmError::Kind::kFailed;
  (void)body;
  fail(config, status, "returned an error", error.message, kind, parameter);
}

std::string limit_name(const LlmConfig& config) {
  return config.token_limit_field == TokenLimitField::kMaxCompletionTokens ? "max_completion_tokens" : "max_tokens";
}

[[noreturn]] void fail_cut_off(const LlmConfig& config, long status, const std::string& text) {
  throw LlmError(hide_key(config, config.provider + " stopped the reply at the token limit (" + limit_name(config) +
                                      " = " + std::to_string(config.max_tokens) +
                                      ") before it was complete (HTTP " + std::to_string(status) +
                                      "); raise the server option max_tokens (reasoning models spend tokens thinking "
                                      "first). The reply began: " + text_start(text)),
                 LlmError::Kind::kCutOff);
}

// OpenAI content: a string, null, or a list of parts of which the "text" ones are the answer (Mistral, and
// servers that send reasoning as a part of its own).
std::string openai_content(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array())
    for (const json& part : content)
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string())
        text += part["text"].get<std::string>();
  return text;
}

}  // namespace

std::string text_start(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return valid_utf8(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut--;  // not inside a UTF-8 character
  return valid_utf8(std::string_view(text).substr(0, cut)) + "...";
}

bool retryable_status(long status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

std::vector<ChatMessage> well_formed_conversation(const std::vector<ChatMessage>& messages) {
  std::string system;
  std::vector<ChatMessage> turns;
  for (const ChatMessage& message : messages) {
    if (message.content.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    if (message.role == "system") {
      system += (system.empty() ? "" : "\n\n") + message.content;
    } else if (!turns.empty() && turns.back().role == message.role) {
      turns.back().content += "\n\n" + message.content;
    } else {
      turns.push_back(message);
    }
  }
  // A conversation starts with the user (Anthropic and some chat templates insist).
  if (!turns.empty() && turns.front().role != "user") turns.insert(turns.begin(), {"user", "(the conversation so far)"});
  std::vector<ChatMessage> result;
  if (!system.empty()) result.push_back({"system", system});
  result.insert(result.end(), turns.begin(), turns.end());
  return result;
}

std::string without_reasoning(const std::string& text) {
  static const char* const kOpen = "<think>";
  static const char* const kClose = "</think>";
  std::string rest = trim_start(text);
  if (rest.rfind(kOpen, 0) == 0) {
    while (rest.rfind(kOpen, 0) == 0) {  // one or more reasoning blocks before the answer
      size_t close = rest.find(kClose);
      if (close == std::string::npos)
        throw LlmError("the reply holds only the model's reasoning (<think> is never closed): it was cut off or the "
                       "model did not finish; raise the server option max_tokens",
                       LlmError::Kind::kCutOff);
      rest = trim_start(rest.substr(close + std::strlen(kClose)));
    }
    return rest;
  }
  size_t close = text.find(kClose);
  if (close != std::string::npos && text.find(kOpen) > close)  // the opening tag was left out
    return trim_start(text.substr(close + std::strlen(kClose)));
  return text;
}

HttpRequest build_llm_request(const LlmConfig& config, const std::vector<ChatMessage>& messages) {
  HttpRequest request;
  std::vector<ChatMessage> conversation = well_formed_conversation(messages);
  request.headers.push_back("Content-Type: application/json");
  if (config.provider == "openai" || config.provider == "azure") {
    json body = {{"model", config.model}};
    if (config.provider == "openai") {
      request.url = endpoint(config.url, "/chat/completions");
      if (!config.api_key.empty()) request.headers.push_back("Authorization: Bearer " + config.api_key);
    } else {
      AzureEndpoint azure = azure_endpoint(config);
      request.url = azure.url;
      if (!config.api_key.empty())
        request.headers.push_back(azure.deployment_url ? "api-key: " + config.api_key
                                                       : "Authorization: Bearer " + config.api_key);
      if (azure.deployment_url) body.erase("model");  // the deployment in the URL is the model
    }
    json list = json::array();
    for (const ChatMessage& m : conversation) list.push_back({{"role", m.role}, {"content", m.content}});
    body["messages"] = list;
    add_openai_body_options(config, body);
    request.body = body.dump();
  } else if (config.provider == "anthropic") {
    std::string base = without_trailing_slashes(config.url);
    request.url = ends_with(base, "/v1/messages") ? base : ends_with(base, "/v1") ? base + "/messages" : base + "/v1/messages";
    if (!config.api_key.empty()) request.headers.push_back("x-api-key: " + config.api_key);
    request.headers.push_back("anthropic-version: 2023-06-01");
    std::string system;
    json list = json::array();
    for (const ChatMessage& m : conversation) {
      if (m.role == "system") system = m.content;
      else list.push_back({{"role", m.role}, {"content", m.content}});
    }
    json body = {{"model", config.model}, {"max_tokens", config.max_tokens}, {"messages", list}};
    if (!system.empty()) body["system"] = system;
    if (config.temperature) body["temperature"] = *config.temperature;
    request.body = body.dump();
  } else {
    throw LlmError("unknown LLM provider \"" + config.provider + "\" (use openai, azure or anthropic)");
  }
  for (const auto& [name, value] : config.extra_headers) request.headers.push_back(name + ": " + value);
  return request;
}

LlmReply parse_llm_reply(const LlmConfig& config, long http_status, const std::string& body) {
  json document = json::parse(body, nullptr, false);  // blank lines before the body (DeepSeek) are whitespace
  bool success = http_status >= 200 && http_status <= 299;
  if (document.is_discarded()) {
    if (!success)
      fail(config, http_status, "returned an error", body,
           retryable_status(http_status) ? LlmError::Kind::kRetryable : LlmError::Kind::kFailed);
    fail(config, http_status, "reply is not JSON", body);
  }
  ServiceError error = service_error(document);
  if (error.found) fail_with_service_error(config, http_status, error, body);
  if (!success)
    fail(config, http_status, "returned an error", body,
         retryable_status(http_status) ? LlmError::Kind::kRetryable : LlmError::Kind::kFailed);

  LlmReply reply;
  const bool anthropic = config.provider == "anthropic";
  const char* expected = anthropic ? "reply is not of the expected form (no content[].text)"
                                   : "reply is not of the expected form (no choices[0].message.content)";
  std::string raw_text;
  try {
    if (anthropic) {
      std::string stop = document.value("stop_reason", "");
      if (stop == "refusal")
        throw LlmError(config.provider + " refused to answer (stop_reason refusal)", LlmError::Kind::kRefused);
      for (const json& block : document.at("content"))  // thinking and redacted_thinking blocks are not the answer
        if (block.is_object() && block.value("type", "") == "text") raw_text += block.at("text").get<std::string>();
      if (stop == "max_tokens") fail_cut_off(config, http_status, raw_text);
      if (raw_text.empty()) fail(config, http_status, expected, body);
      if (document.contains("usage")) {
        reply.prompt_tokens = token_count(document["usage"], "input_tokens");
        reply.completion_tokens = token_count(document["usage"], "output_tokens");
      }
    } else {
      const json& choice = document.at("choices").at(0);
      const json& message = choice.at("message");
      std::string finish = choice.contains("finish_reason") && choice["finish_reason"].is_string()
                               ? choice["finish_reason"].get<std::string>()
                               : "";
      if (message.contains("refusal") && message["refusal"].is_string() && !message["refusal"].get<std::string>().empty())
        throw LlmError(hide_key(config, config.provider + " refused to answer: " +
                                            text_start(message["refusal"].get<std::string>())),
                       LlmError::Kind::kRefused);
      if (finish == "content_filter")
        throw LlmError(config.provider + "'s content filter stopped the reply (finish_reason content_filter)",
                       LlmError::Kind::kRefused);
      raw_text = openai_content(message.at("content"));
      if (finish == "length") fail_cut_off(config, http_status, raw_text);
      if (raw_text.empty()) fail(config, http_status, expected, body);
      if (document.contains("usage")) {
        reply.prompt_tokens = token_count(document["usage"], "prompt_tokens");
        reply.completion_tokens = token_count(document["usage"], "completion_tokens");
      }
    }
    if (document.contains("model") && document["model"].is_string()) reply.model = document["model"].get<std::string>();
  } catch (const json::exception&) {
    fail(config, http_status, expected, body);
  }
  reply.text = without_reasoning(raw_text);
  if (reply.text.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(config, http_status, "reply holds reasoning but no answer", body, LlmError::Kind::kCutOff);
  return reply;
}

}  // namespace multidb
