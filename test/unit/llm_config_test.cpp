// core/llm_config: a server's options, with defaults that real services accept, and values refused with their
// option named.
#include "core/llm_config.hpp"

#include <gtest/gtest.h>

using namespace multidb;

namespace {

std::string refusal(const OptionList& options) {
  try {
    llm_config_from_options(options);
  } catch (const LlmConfigError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST(LlmConfig, DefaultsPerProviderAndModel) {
  LlmConfig classic = llm_config_from_options({{"model", "gpt-4o-mini"}});
  EXPECT_EQ(classic.url, "https://api.openai.com/v1");
  EXPECT_EQ(classic.token_limit_field, TokenLimitField::kMaxTokens);
  EXPECT_EQ(classic.max_tokens, 4096);
  EXPECT_EQ(classic.temperature, 0.0);
  EXPECT_EQ(classic.timeout_ms, kDefaultLlmTimeoutMs);

  for (const char* model : {"o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "openai/o3"}) {
    LlmConfig reasoning = llm_config_from_options({{"model", model}});
    EXPECT_EQ(reasoning.token_limit_field, TokenLimitField::kMaxCompletionTokens) << model;
    EXPECT_FALSE(reasoning.temperature.has_value()) << model;
    EXPECT_EQ(reasoning.max_tokens, 16384) << model << ": the limit counts the reasoning too";
  }
  for (const char* model : {"gpt-4o", "gpt-5-chat-latest", "llama3.1", "omni", "qwen3:8b"})
    EXPECT_FALSE(is_reasoning_model(model)) << model;

  LlmConfig azure = llm_config_from_options({{"provider", "azure"}, {"url", "https://r.openai.azure.com/openai/v1"},
                                             {"model", "prod-4o"}});
  EXPECT_EQ(azure.token_limit_field, TokenLimitField::kMaxCompletionTokens);
  EXPECT_EQ(azure.api_version, "2024-10-21");
  LlmConfig claude = llm_config_from_options({{"provider", "anthropic"}, {"model", "claude-sonnet-4-5"}});
  EXPECT_EQ(claude.url, "https://api.anthropic.com");
  EXPECT_EQ(claude.token_limit_field, TokenLimitField::kMaxTokens);
}

TEST(LlmConfig, OptionsOverrideDefaults) {
  LlmConfig config = llm_config_from_options({{"model", "o3"}, {"token_limit_field", "max_tokens"}, {"max_tokens", "900"},
                                              {"temperature", "0.2"}, {"response_format", "json_schema"},
                                              {"headers", R"({"HTTP-Referer": "https://x.example", "X-Title": "multidb"})"}});
  EXPECT_EQ(config.token_limit_field, TokenLimitField::kMaxTokens);
  EXPECT_EQ(config.max_tokens, 900);
  EXPECT_EQ(config.temperature, 0.2);
  EXPECT_EQ(config.response_format, ResponseFormat::kJsonSchema);
  ASSERT_EQ(config.extra_headers.size(), 2u);
  EXPECT_EQ(config.extra_headers[1], (std::pair<std::string, std::string>{"X-Title", "multidb"}));
  EXPECT_FALSE(llm_config_from_options({{"model", "claude"}, {"provider", "anthropic"}, {"temperature", "none"}})
                   .temperature.has_value());
}

TEST(LlmConfig, WrongValuesNameTheirOption) {
  EXPECT_NE(refusal({{"provider", "gemini"}}).find("unknown LLM provider \"gemini\""), std::string::npos);
  EXPECT_NE(refusal({{"provider", "azure"}, {"model", "m"}}).find("provider 'azure' needs a url"), std::string::npos);
  EXPECT_NE(refusal({{"max_tokens", "0"}}).find("max_tokens must be a whole number"), std::string::npos);
  EXPECT_NE(refusal({{"temperature", "hot"}}).find("temperature must be"), std::string::npos);
  EXPECT_NE(refusal({{"provider", "anthropic"}, {"temperature", "1.5"}}).find("0 to 1"), std::string::npos);
  EXPECT_NE(refusal({{"token_limit_field", "tokens"}}).find("token_limit_field must be"), std::string::npos);
  EXPECT_NE(refusal({{"provider", "anthropic"}, {"token_limit_field", "none"}}).find("requires max_tokens"), std::string::npos);
  EXPECT_NE(refusal({{"provider", "anthropic"}, {"response_format", "json_object"}}).find("Anthropic takes none"),
            std::string::npos);
  EXPECT_NE(refusal({{"headers", "X-Title: multidb"}}).find("JSON object"), std::string::npos);
  EXPECT_NE(refusal({{"headers", R"({"X-Title": "a\r\nX-Evil: 1"})"}}).find("line break"), std::string::npos)
      << "no header injection";
  EXPECT_NE(refusal({{"headers", R"({"Bad Name": "x"})"}}).find("is not a header name"), std::string::npos);
  EXPECT_NE(refusal({{"headers", R"({"Authorization": "Bearer sk-x"})"}}).find("user mapping"), std::string::npos)
      << "a key never goes into server options, which every user can read";
  EXPECT_NE(refusal({{"api_version", "2024&x=1"}}).find("api_version"), std::string::npos);
  EXPECT_NE(refusal({{"url", "http://x/ y"}}).find("url must not"), std::string::npos);
}
