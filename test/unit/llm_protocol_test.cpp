// core/llm_protocol: requests for both providers, replies as they come, errors that never show the key.
#include "core/llm_protocol.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace multidb;
using nlohmann::json;

TEST(LlmProtocol, OpenAiRequest) {
  LlmConfig config{"openai", "http://127.0.0.1:8080/v1/", "gpt-test", "sk-1", 1000, 512};
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
  LlmConfig config{"anthropic", "https://api.anthropic.com", "claude", "sk-ant", 1000, 100};
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
  LlmConfig openai{"openai", "u", "m", "sk-SECRET", 1, 1};
  LlmReply reply = parse_llm_reply(openai, 200,
      R"({"model": "gpt-x", "choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})");
  EXPECT_EQ(reply.text, "hi");
  EXPECT_EQ(reply.model, "gpt-x");
  EXPECT_EQ(reply.prompt_tokens, 7);
  EXPECT_EQ(reply.completion_tokens, 2);
  LlmConfig anthropic{"anthropic", "u", "m", "k", 1, 1};
  reply = parse_llm_reply(anthropic, 200,
      R"({"model": "c", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "usage": {"input_tokens": 3, "output_tokens": 4}})");
  EXPECT_EQ(reply.text, "ab");
  EXPECT_EQ(reply.completion_tokens, 4);
}

TEST(LlmProtocol, ErrorsNameProviderStatusAndBodyButNeverTheKey) {
  LlmConfig openai{"openai", "u", "m", "sk-SECRET", 1, 1};
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
  LlmConfig config{"openai", "http://x", "m", "", 1000, 100};
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
  LlmConfig config{"openai", "http://x", "m", "key", 1000, 100};
  try {
    parse_llm_reply(config, 401, R"({"error": {"message": "key key <key>"}})");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("<key> <key> <<key>>"), std::string::npos) << message;
  }
}

TEST(LlmReply, ErrorTextIsValidUtf8) {
  LlmConfig config{"openai", "http://x", "m", "", 1000, 100};
  try {
    parse_llm_reply(config, 500, "\xFF\xFE overloaded");
    FAIL() << "no error";
  } catch (const LlmError& e) {
    std::string message = e.what();
    EXPECT_EQ(valid_utf8(message), message);
    EXPECT_NE(message.find("overloaded"), std::string::npos);
  }
}
