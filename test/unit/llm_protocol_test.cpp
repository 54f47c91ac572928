// core/llm_protocol: requests for both providers, replies as they come, errors that never show the key.
#include "core/llm_protocol.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace multidb;
using nlohmann::json;

namespace {

LlmConfig make_config(const std::string& provider, const std::string& url, const std::string& model,
                      const std::string& key, int max_tokens = 512) {
  LlmConfig config;
  config.provider = provider;
  config.url = url;
  config.model = model;
  config.api_key = key;
  config.max_tokens = max_tokens;
  return config;
}

std::string error_of(const LlmConfig& config, long status, const std::string& body, LlmError::Kind* kind = nullptr,
                     std::string* parameter = nullptr) {
  try {
    parse_llm_reply(config, status, body);
  } catch (const LlmError& e) {
    if (kind) *kind = e.kind();
    if (parameter) *parameter = e.parameter();
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(LlmProtocol, OpenAiRequest) {
  LlmConfig config = make_config("openai", "http://127.0.0.1:8080/v1/", "gpt-test", "sk-1", 512);
  HttpRequest request = build_llm_request(config, {{"system", "rules"}, {"user", "question"}});
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/v1/chat/completions");
  EXPECT_EQ(request.headers, (std::vector<std::string>{"Content-Type: application/json", "Authorization: Bearer sk-1"}));
  json body = json::parse(request.body);
  EXPECT_EQ(body["model"], "gpt-test");
  EXPECT_EQ(body["max_tokens"], 512);
  EXPECT_EQ(body["messages"][1]["content"], "question");
  config.api_key.clear();
  EXPECT_EQ(build_llm_request(config, {}).headers.size(), 1u) << "no key, no Authorization header";
}

TEST(LlmProtocol, AnthropicRequest) {
  LlmConfig config = make_config("anthropic", "https://api.anthropic.com", "claude", "sk-ant", 100);
  HttpRequest request = build_llm_request(config, {{"system", "a"}, {"system", "b"}, {"user", "q"}});
  EXPECT_EQ(request.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(request.headers[1], "x-api-key: sk-ant");
  EXPECT_EQ(request.headers[2], "anthropic-version: 2023-06-01");
  json body = json::parse(request.body);
  EXPECT_EQ(body["system"], "a\n\nb");
  EXPECT_EQ(body["messages"].size(), 1u);
  config.url = "http://localhost/v1";
  EXPECT_EQ(build_llm_request(config, {}).url, "http://localhost/v1/messages");
  config.provider = "gemini";
  EXPECT_THROW(build_llm_request(config, {}), LlmError);
}

TEST(LlmProtocol, ReadsReplies) {
  LlmConfig openai = make_config("openai", "u", "m", "sk-SECRET", 1);
  LlmReply reply = parse_llm_reply(openai, 200,
      R"({"model": "gpt-x", "choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})");
  EXPECT_EQ(reply.text, "hi");
  EXPECT_EQ(reply.model, "gpt-x");
  EXPECT_EQ(reply.prompt_tokens, 7);
  EXPECT_EQ(reply.completion_tokens, 2);
  LlmConfig anthropic = make_config("anthropic", "u", "m", "k", 1);
  reply = parse_llm_reply(anthropic, 200,
      R"({"model": "c", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "usage": {"input_tokens": 3, "output_tokens": 4}})");
  EXPECT_EQ(reply.text, "ab");
  EXPECT_EQ(reply.completion_tokens, 4);
}

TEST(LlmProtocol, ErrorsNameProviderStatusAndBodyButNeverTheKey) {
  LlmConfig openai = make_config("openai", "u", "m", "sk-SECRET", 1);
  auto message = [&](long status, const std::string& body) {
    try {
      parse_llm_reply(openai, status, body);
    } catch (const LlmError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(500, R"({"error": {"message": "overloaded"}})"), "openai returned an error (HTTP 500): overloaded");
  EXPECT_EQ(message(502, "<html>bad gateway</html>"), "openai returned an error (HTTP 502): <html>bad gateway</html>");
  EXPECT_EQ(message(200, "not json"), "openai reply is not JSON (HTTP 200): not json");
  EXPECT_NE(message(200, R"({"choices": []})").find("not of the expected form"), std::string::npos);
  EXPECT_EQ(message(401, R"({"error": {"message": "bad key sk-SECRET"}})"), "openai returned an error (HTTP 401): bad key <key>");
  std::string long_body(500, 'x');
  EXPECT_EQ(message(500, long_body).size(), std::string("openai returned an error (HTTP 500): ").size() + 203);
}

TEST(LlmReply, OddTokenCountsAreUnknownNotFatal) {
  LlmConfig config = make_config("openai", "http://x", "m", "", 100);
  for (const char* usage : {R"({"prompt_tokens": 3000000000, "completion_tokens": 1e300})",
                            R"({"prompt_tokens": "many", "completion_tokens": -5})", R"("nothing")"}) {
    LlmReply reply = parse_llm_reply(
        config, 200, std::string(R"({"choices": [{"message": {"content": "hi"}}], "usage": )") + usage + "}");
    EXPECT_EQ(reply.text, "hi") << usage;
    EXPECT_EQ(reply.prompt_tokens, -1) << usage;
    EXPECT_EQ(reply.completion_tokens, -1) << usage;
  }
  LlmReply none = parse_llm_reply(config, 200, R"({"choices": [{"message": {"content": "hi"}}]})");
  EXPECT_EQ(none.prompt_tokens, -1);
}

TEST(LlmReply, AKeyInsideItsOwnMaskIsHiddenOnce) {
  LlmConfig config = make_config("openai", "http://x", "m", "key", 100);
  try {
    parse_llm_reply(config, 401, R"({"error": {"message": "key key <key>"}})");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("<key> <key> <<key>>"), std::string::npos) << message;
  }
}

TEST(LlmReply, ErrorTextIsValidUtf8) {
  LlmConfig config = make_config("openai", "http://x", "m", "", 100);
  try {
    parse_llm_reply(config, 500, "\xFF\xFE overloaded");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_EQ(valid_utf8(message), message);
    EXPECT_NE(message.find("overloaded"), std::string::npos);
  }
}

// ---- requests that real services accept ----------------------------------------------------------------------

TEST(LlmRequest, OneSystemMessageThenAlternatingTurnsNoneEmpty) {
  std::vector<ChatMessage> sent = well_formed_conversation(
      {{"system", "rules"}, {"system", "schema"}, {"user", "q1"}, {"assistant", ""}, {"user", "error report"},
       {"assistant", "  "}, {"assistant", "plan"}, {"user", "q2"}});
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].role, "system");
  EXPECT_EQ(sent[0].content, "rules\n\nschema");
  EXPECT_EQ(sent[1].role, "user");
  EXPECT_EQ(sent[1].content, "q1\n\nerror report") << "an empty assistant turn (a repair after a cache hit) is left out";
  EXPECT_EQ(sent[2].content, "plan");
  EXPECT_EQ(sent[3].content, "q2");
  EXPECT_EQ(well_formed_conversation({{"system", "s"}, {"assistant", "a"}, {"user", "u"}})[1].role, "user")
      << "a conversation starts with the user";
}

TEST(LlmRequest, TokenFieldTemperatureAndStructuredOutput) {
  LlmConfig config = make_config("openai", "https://api.openai.com/v1", "o3-mini", "k", 16384);
  config.token_limit_field = TokenLimitField::kMaxCompletionTokens;
  config.temperature.reset();
  json body = json::parse(build_llm_request(config, {{"user", "q"}}).body);
  EXPECT_EQ(body["max_completion_tokens"], 16384);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("temperature"));
  config.token_limit_field = TokenLimitField::kNone;
  config.response_format = ResponseFormat::kJsonSchema;
  body = json::parse(build_llm_request(config, {{"user", "q"}}).body);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["required"], json({"queries", "combine", "explanation"}));
  // A query names one database or a set of them.
  const json& query = body["response_format"]["json_schema"]["schema"]["properties"]["queries"]["items"];
  ASSERT_EQ(query["anyOf"].size(), 2u);
  EXPECT_EQ(query["anyOf"][0]["required"], json({"database", "sql"}));
  EXPECT_EQ(query["anyOf"][1]["required"], json({"databases", "sql"}));
  config.response_format = ResponseFormat::kJsonObject;
  EXPECT_EQ(json::parse(build_llm_request(config, {{"user", "q"}}).body)["response_format"], json({{"type", "json_object"}}));
}

TEST(LlmRequest, EndpointsAsPastedAndAzureBothWays) {
  LlmConfig config = make_config("openai", "https://openrouter.ai/api/v1/chat/completions", "m", "k");
  EXPECT_EQ(build_llm_request(config, {{"user", "q"}}).url, "https://openrouter.ai/api/v1/chat/completions");
  config.url = "http://127.0.0.1:11434/v1/";
  EXPECT_EQ(build_llm_request(config, {{"user", "q"}}).url, "http://127.0.0.1:11434/v1/chat/completions");

  LlmConfig azure = make_config("azure", "https://r.openai.azure.com/openai/deployments/prod-4o", "prod-4o", "az");
  azure.api_version = "2024-10-21";
  HttpRequest classic = build_llm_request(azure, {{"user", "q"}});
  EXPECT_EQ(classic.url, "https://r.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(classic.headers[1], "api-key: az");
  EXPECT_FALSE(json::parse(classic.body).contains("model")) << "the deployment in the URL is the model";
  azure.url = "https://r.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2025-01-01-preview";
  EXPECT_EQ(build_llm_request(azure, {{"user", "q"}}).url, azure.url) << "a pasted full endpoint is not doubled";
  azure.url = "https://r.openai.azure.com/openai/v1/";
  HttpRequest v1 = build_llm_request(azure, {{"user", "q"}});
  EXPECT_EQ(v1.url, "https://r.openai.azure.com/openai/v1/chat/completions");
  EXPECT_EQ(v1.headers[1], "Authorization: Bearer az");
  EXPECT_EQ(json::parse(v1.body)["model"], "prod-4o");
  azure.url = "https://r.openai.azure.com";
  EXPECT_EQ(build_llm_request(azure, {{"user", "q"}}).url, "https://r.openai.azure.com/openai/v1/chat/completions");

  LlmConfig anthropic = make_config("anthropic", "https://api.anthropic.com/v1/messages", "claude", "k");
  EXPECT_EQ(build_llm_request(anthropic, {{"user", "q"}}).url, "https://api.anthropic.com/v1/messages");
  anthropic.temperature.reset();
  EXPECT_FALSE(json::parse(build_llm_request(anthropic, {{"user", "q"}}).body).contains("temperature"));
}

TEST(LlmRequest, ExtraHeadersFollowMultidbsOwn) {
  LlmConfig config = make_config("openai", "https://openrouter.ai/api/v1", "m", "k");
  config.extra_headers = {{"HTTP-Referer", "https://example.com"}, {"X-Title", "multidb"}};
  std::vector<std::string> headers = build_llm_request(config, {{"user", "q"}}).headers;
  EXPECT_EQ(headers, (std::vector<std::string>{"Content-Type: application/json", "Authorization: Bearer k",
                                                "HTTP-Referer: https://example.com", "X-Title: multidb"}));
}

// ---- replies as they really come -------------------------------------------------------------------------------

TEST(LlmReply, ReasoningIsNeverTheAnswer) {
  LlmConfig config = make_config("openai", "http://x", "m", "");
  auto text = [&](const std::string& content) {
    return parse_llm_reply(config, 200, json{{"choices", {{{"message", {{"content", content}}}}}}}.dump()).text;
  };
  EXPECT_EQ(text("<think>draft {\"queries\": []}</think>\n\n{\"queries\": [1]}"), "{\"queries\": [1]}");
  EXPECT_EQ(text("draft {\"queries\": []}\n</think>\n{\"queries\": [2]}"), "{\"queries\": [2]}") << "unopened";
  EXPECT_EQ(text("<think>a</think><think>b</think> final"), "final");
  EXPECT_EQ(text("{\"queries\": [{\"sql\": \"SELECT '<think>' AS tag\"}]}"),
            "{\"queries\": [{\"sql\": \"SELECT '<think>' AS tag\"}]}")
      << "an opening tag that does not start the text is text";
  LlmError::Kind kind{};
  EXPECT_NE(error_of(config, 200, json{{"choices", {{{"message", {{"content", "<think>still thinking"}}}}}}}.dump(), &kind)
                .find("never closed"),
            std::string::npos);
  EXPECT_EQ(kind, LlmError::Kind::kCutOff);
  // vLLM / DeepSeek: reasoning in its own field; Mistral: content as parts.
  LlmReply vllm = parse_llm_reply(
      config, 200, R"({"choices": [{"message": {"reasoning_content": "draft", "content": "answer"}, "finish_reason": "stop"}]})");
  EXPECT_EQ(vllm.text, "answer");
  LlmReply mistral = parse_llm_reply(config, 200,
      R"({"choices": [{"message": {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "draft"}]},
                                                 {"type": "text", "text": "answer"}]}}]})");
  EXPECT_EQ(mistral.text, "answer");
  LlmConfig anthropic = make_config("anthropic", "http://x", "claude", "");
  LlmReply claude = parse_llm_reply(anthropic, 200,
      R"({"content": [{"type": "thinking", "thinking": "draft", "signature": "s"}, {"type": "text", "text": "answer"}],
          "stop_reason": "end_turn"})");
  EXPECT_EQ(claude.text, "answer");
}

TEST(LlmReply, CutOffRefusedAndFilteredAreNamed) {
  LlmConfig openai = make_config("openai", "http://x", "m", "", 300);
  LlmError::Kind kind{};
  std::string cut = error_of(openai, 200, R"({"choices": [{"message": {"content": "{\"queries\": [{\"data"}, "finish_reason": "length"}]})", &kind);
  EXPECT_EQ(kind, LlmError::Kind::kCutOff);
  EXPECT_NE(cut.find("token limit (max_tokens = 300)"), std::string::npos) << cut;
  EXPECT_NE(cut.find("raise the server option max_tokens"), std::string::npos) << cut;
  std::string refused = error_of(openai, 200,
      R"({"choices": [{"message": {"content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]})", &kind);
  EXPECT_EQ(kind, LlmError::Kind::kRefused);
  EXPECT_EQ(refused, "openai refused to answer: I can't help with that.");
  EXPECT_NE(error_of(openai, 200, R"({"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]})", &kind)
                .find("content filter"),
            std::string::npos);
  EXPECT_EQ(kind, LlmError::Kind::kRefused);
  LlmConfig anthropic = make_config("anthropic", "http://x", "claude", "", 200);
  EXPECT_NE(error_of(anthropic, 200, R"({"content": [{"type": "text", "text": "{\"que"}], "stop_reason": "max_tokens"})", &kind)
                .find("token limit (max_tokens = 200)"),
            std::string::npos);
  EXPECT_EQ(kind, LlmError::Kind::kCutOff);
  EXPECT_NE(error_of(anthropic, 200, R"({"content": [], "stop_reason": "refusal"})", &kind).find("refused"), std::string::npos);
  EXPECT_EQ(kind, LlmError::Kind::kRefused);
}

TEST(LlmReply, ErrorsWhereverTheServiceSaysThem) {
  LlmConfig config = make_config("openai", "http://x", "m", "");
  LlmError::Kind kind{};
  std::string parameter;
  // OpenRouter: an error inside an HTTP 200, with the upstream's status as its code.
  EXPECT_EQ(error_of(config, 200, R"({"error": {"code": 502, "message": "Provider returned error"}})", &kind),
            "openai returned an error (HTTP 200): Provider returned error");
  EXPECT_EQ(kind, LlmError::Kind::kRetryable);
  EXPECT_EQ(error_of(config, 200, R"({"error": {"code": 400, "message": "bad"}})", &kind), "openai returned an error (HTTP 200): bad");
  EXPECT_EQ(kind, LlmError::Kind::kFailed);
  // Gemini: errors as an array; LM Studio: the error as a plain string.
  EXPECT_EQ(error_of(config, 400, R"([{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}])"),
            "openai returned an error (HTTP 400): Invalid JSON payload");
  EXPECT_EQ(error_of(config, 400, R"({"error": "'response_format.type' must be 'json_schema' or 'text'"})"),
            "openai returned an error (HTTP 400): 'response_format.type' must be 'json_schema' or 'text'");
  // Anthropic overloaded; plain 503 and 429; a 400 that is final.
  error_of(make_config("anthropic", "http://x", "c", ""), 529, R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})", &kind);
  EXPECT_EQ(kind, LlmError::Kind::kRetryable);
  for (long status : {408L, 409L, 429L, 500L, 503L}) {
    error_of(config, status, "<html>busy</html>", &kind);
    EXPECT_EQ(kind, LlmError::Kind::kRetryable) << status;
  }
  error_of(config, 404, R"({"error": {"message": "no such model"}})", &kind);
  EXPECT_EQ(kind, LlmError::Kind::kFailed);
  // A model that does not take a parameter: the reasoning models' own words.
  error_of(config, 400,
           R"({"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}})",
           &kind, &parameter);
  EXPECT_EQ(kind, LlmError::Kind::kUnsupportedParameter);
  EXPECT_EQ(parameter, "max_tokens");
  error_of(config, 400,
           R"({"error": {"message": "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.", "param": "temperature", "code": "unsupported_value"}})",
           &kind, &parameter);
  EXPECT_EQ(parameter, "temperature");
  error_of(make_config("anthropic", "http://x", "c", ""), 400,
           R"({"type": "error", "error": {"type": "invalid_request_error", "message": "temperature is not supported for this model"}})",
           &kind, &parameter);
  EXPECT_EQ(kind, LlmError::Kind::kUnsupportedParameter);
  EXPECT_EQ(parameter, "temperature");
  // DeepSeek: blank lines before the body.
  EXPECT_EQ(parse_llm_reply(config, 200, "\n\n\n" R"({"choices": [{"message": {"content": "hi"}}]})").text, "hi");
}
