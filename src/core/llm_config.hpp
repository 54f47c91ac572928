// What a multidb_llm server's options mean: the provider, where its endpoint is, and what each request carries
// (the token-limit field, temperature, structured output, extra headers), with defaults per provider and model
// that real services accept. The options are the contract; the validator and every ask read them here.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace multidb {

// Which field carries the reply's token limit: OpenAI's reasoning models and Azure take only
// max_completion_tokens (it counts the reasoning too); most OpenAI-compatible servers and Anthropic take
// max_tokens; "none" sends no limit (the server's own applies).
enum class TokenLimitField { kMaxTokens, kMaxCompletionTokens, kNone };

// Structured output (OpenAI-compatible only): json_object is plain JSON mode, json_schema constrains the reply
// to the plan's schema (OpenAI, Azure, vLLM, llama.cpp, LM Studio, Ollama).
enum class ResponseFormat { kNone, kJsonObject, kJsonSchema };

using OptionList = std::vector<std::pair<std::string, std::string>>;

// The default wait for one reply: reasoning models can think for minutes on a large schema (the official SDKs
// wait 10). Ctrl-C and statement_timeout still end the wait at once.
constexpr long kDefaultLlmTimeoutMs = 300000;

struct LlmConfig {
  std::string provider = "openai";  // openai (any OpenAI-compatible API), azure, anthropic
  std::string url;                  // a base URL or the full endpoint
  std::string model;
  std::string api_key;
  long timeout_ms = kDefaultLlmTimeoutMs;
  int max_tokens = 4096;
  TokenLimitField token_limit_field = TokenLimitField::kMaxTokens;
  std::optional<double> temperature = 0.0;  // nullopt: not sent (the model's default)
  ResponseFormat response_format = ResponseFormat::kNone;
  OptionList extra_headers;  // name, value
  std::string api_version;   // Azure's deployment URLs (…/openai/deployments/<name>)
};

// A wrong option value: the message names the option and what it takes.
class LlmConfigError : public std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The server options a multidb_llm server takes, in the order the HINT lists them.
const std::vector<std::string>& llm_server_option_names();

// OpenAI's reasoning models by name (o1, o3, o4-mini, gpt-5…): they reject max_tokens and temperature.
bool is_reasoning_model(const std::string& model);

// A server's options (timeout excepted: the Postgres layer reads it as an interval) -> the config. What is not
// given takes the provider's and model's defaults: see the provider table of docs/asking.md. Throws LlmConfigError.
LlmConfig llm_config_from_options(const OptionList& options);

// Checks one option as CREATE/ALTER SERVER gives it. Throws LlmConfigError.
void check_llm_option(const std::string& name, const std::string& value);

}  // namespace multidb
