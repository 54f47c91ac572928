#include "core/llm_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

const std::string* find_option(const OptionList& options, const std::string& name) {
  for (const auto& [key, value] : options)
    if (key == name) return &value;
  return nullptr;
}

long whole_number(const std::string& option, const std::string& value, long low, long high) {
  char* end;
  errno = 0;
  long number = std::strtol(value.c_str(), &end, 10);
  if (errno != 0 || end == value.c_str() || *end != '\0' || number < low || number > high)
    throw LlmConfigError(option + " must be a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
                         ", not \"" + value + "\"");
  return number;
}

std::optional<double> parse_temperature(const std::string& value) {
  if (lower(value) == "none") return std::nullopt;
  char* end;
  double number = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(number >= 0 && number <= 2))
    throw LlmConfigError("temperature must be a number from 0 to 2, or 'none' to send none, not \"" + value + "\"");
  return number;
}

TokenLimitField parse_token_limit_field(const std::string& value) {
  if (value == "max_tokens") return TokenLimitField::kMaxTokens;
  if (value == "max_completion_tokens") return TokenLimitField::kMaxCompletionTokens;
  if (value == "none") return TokenLimitField::kNone;
  throw LlmConfigError("token_limit_field must be max_tokens, max_completion_tokens or none, not \"" + value + "\"");
}

ResponseFormat parse_response_format(const std::string& value) {
  if (value == "none") return ResponseFormat::kNone;
  if (value == "json_object") return ResponseFormat::kJsonObject;
  if (value == "json_schema") return ResponseFormat::kJsonSchema;
  throw LlmConfigError("response_format must be none, json_object or json_schema, not \"" + value + "\"");
}

// Headers whose value multidb sets itself: a key belongs in the user mapping, where only its owner reads it.
bool reserved_header(const std::string& name) {
  static const char* const reserved[] = {"authorization", "x-api-key", "api-key", "content-type",
                                         "content-length", "host", "transfer-encoding", "connection"};
  return std::any_of(std::begin(reserved), std::end(reserved), [&](const char* r) { return lower(name) == r; });
}

// '{"HTTP-Referer": "https://example.com", "X-Title": "multidb"}' -> the headers, each checked: a header name is
// a token, and no value may end the header early (CR, LF, NUL).
OptionList parse_headers(const std::string& value) {
  nlohmann::json object = nlohmann::json::parse(value, nullptr, false);
  if (object.is_discarded() || !object.is_object())
    throw LlmConfigError("headers must be a JSON object of header names and values, such as "
                         "'{\"X-Title\": \"multidb\"}'");
  OptionList headers;
  for (const auto& item : object.items()) {
    const std::string& name = item.key();
    if (!item.value().is_string()) throw LlmConfigError("header \"" + name + "\" must have a string value");
    std::string text = item.value().get<std::string>();
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string("!#$%&'*+-.^_`|~").find(c) != std::string::npos;
    });
    if (!token) throw LlmConfigError("\"" + name + "\" is not a header name");
    if (text.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
      throw LlmConfigError("the value of header \"" + name + "\" holds a line break or NUL");
    if (reserved_header(name))
      throw LlmConfigError("header \"" + name + "\" is set by multidb itself (an API key belongs in the user mapping: "
                           "CREATE USER MAPPING … OPTIONS (api_key '…'))");
    headers.emplace_back(name, text);
  }
  return headers;
}

void check_provider(const std::string& value) {
  if (value != "openai" && value != "azure" && value != "anthropic")
    throw LlmConfigError("unknown LLM provider \"" + value +
                         "\": use 'openai' (any OpenAI-compatible /chat/completions: OpenAI, Ollama, vLLM, llama.cpp, "
                         "LM Studio, OpenRouter, DeepSeek, Gemini, Mistral), 'azure' or 'anthropic'");
}

}  // namespace

const std::vector<std::string>& llm_server_option_names() {
  static const std::vector<std::string> names = {"provider",    "url",         "model",           "timeout",
                                                 "max_tokens",  "token_limit_field", "temperature", "response_format",
                                                 "headers",     "api_version"};
  return names;
}

bool is_reasoning_model(const std::string& model) {
  std::string name = lower(model);
  size_t slash = name.rfind('/');  // "openai/o3-mini" through a gateway
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (starts_with(name, "gpt-5") && !starts_with(name, "gpt-5-chat")) return true;
  return name.size() >= 2 && name[0] == 'o' && std::isdigit(static_cast<unsigned char>(name[1]));
}

void check_llm_option(const std::string& name, const std::string& value) {
  if (name == "provider") check_provider(value);
  else if (name == "url" && value.find_first_of(" \t\r\n") != std::string::npos)
    throw LlmConfigError("url must not contain spaces or line breaks");
  else if (name == "max_tokens") whole_number(name, value, 1, 10000000);
  else if (name == "token_limit_field") parse_token_limit_field(value);
  else if (name == "temperature") parse_temperature(value);
  else if (name == "response_format") parse_response_format(value);
  else if (name == "headers") parse_headers(value);
  else if (name == "api_version" && (value.empty() || value.find_first_of("&?#/ \r\n") != std::string::npos))
    throw LlmConfigError("api_version must be a version such as '2024-10-21'");
}

LlmConfig llm_config_from_options(const OptionList& options) {
  for (const auto& [name, value] : options) check_llm_option(name, value);
  LlmConfig config;
  if (const std::string* provider = find_option(options, "provider")) config.provider = *provider;
  if (const std::string* model = find_option(options, "model")) config.model = *model;
  const bool anthropic = config.provider == "anthropic";
  const bool reasoning = is_reasoning_model(config.model);

  if (const std::string* url = find_option(options, "url")) {
    config.url = *url;
  } else if (config.provider == "azure") {
    throw LlmConfigError("provider 'azure' needs a url: 'https://<resource>.openai.azure.com/openai/v1' or "
                         "'https://<resource>.openai.azure.com/openai/deployments/<deployment>'");
  } else {
    config.url = anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1";
  }

  // Azure takes max_completion_tokens for every model; OpenAI's reasoning models only that.
  config.token_limit_field = !anthropic && (reasoning || config.provider == "azure")
                                 ? TokenLimitField::kMaxCompletionTokens
                                 : TokenLimitField::kMaxTokens;
  if (const std::string* field = find_option(options, "token_limit_field")) {
    config.token_limit_field = parse_token_limit_field(*field);
    if (anthropic && config.token_limit_field != TokenLimitField::kMaxTokens)
      throw LlmConfigError("Anthropic's Messages API requires max_tokens: token_limit_field must be max_tokens");
  }
  // A limit that counts the reasoning too must leave room for it.
  config.max_tokens = config.token_limit_field == TokenLimitField::kMaxCompletionTokens ? 16384 : 4096;
  if (const std::string* limit = find_option(options, "max_tokens"))
    config.max_tokens = static_cast<int>(whole_number("max_tokens", *limit, 1, 10000000));

  config.temperature = reasoning ? std::nullopt : std::optional<double>(0.0);
  if (const std::string* temperature = find_option(options, "temperature"))
    config.temperature = parse_temperature(*temperature);
  if (anthropic && config.temperature && *config.temperature > 1)
    throw LlmConfigError("Anthropic takes a temperature from 0 to 1");

  if (const std::string* format = find_option(options, "response_format")) {
    config.response_format = parse_response_format(*format);
    if (anthropic && config.response_format != ResponseFormat::kNone)
      throw LlmConfigError("response_format is for OpenAI-compatible servers; Anthropic takes none");
  }
  if (const std::string* headers = find_option(options, "headers")) config.extra_headers = parse_headers(*headers);
  config.api_version = "2024-10-21";
  if (const std::string* version = find_option(options, "api_version")) config.api_version = *version;
  return config;
}

}  // namespace multidb
