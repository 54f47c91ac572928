// core/llm_call: the retry policy of the official SDKs, against a scripted transport and a fake clock.
#include "core/llm_call.hpp"

#include <gtest/gtest.h>

#include <deque>

using namespace multidb;

namespace {

const char* const kPlanReply = R"({"choices": [{"message": {"content": "{\"queries\": []}"}, "finish_reason": "stop"}]})";

// Answers in turn from a list, on a clock that only the sleeps move.
struct ScriptedService {
  std::deque<HttpResponse> answers;
  std::vector<HttpRequest> requests;
  std::vector<long> timeouts;
  std::vector<long> sleeps;
  long clock_ms = 0;
  bool interrupt_on_sleep = false;

  LlmTransport transport() {
    LlmTransport t;
    t.post = [this](const HttpRequest& request, long timeout_ms) {
      requests.push_back(request);
      timeouts.push_back(timeout_ms);
      if (answers.empty()) throw HttpError(HttpError::Kind::kTransport, "Connection refused");
      HttpResponse next = answers.front();
      answers.pop_front();
      if (next.status == 0) throw HttpError(HttpError::Kind::kTransport, "Connection reset by peer");
      clock_ms += 10;
      return next;
    };
    t.sleep = [this](long ms) {
      if (interrupt_on_sleep) throw HttpError(HttpError::Kind::kAborted, "the request was interrupted");
      sleeps.push_back(ms);
      clock_ms += ms;
    };
    t.now_ms = [this] { return clock_ms; };
    t.now_epoch_s = [] { return 1700000000L; };
    t.random_unit = [] { return 0.0; };
    return t;
  }
};

HttpResponse answer(long status, const std::string& body, HttpHeaders headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = body;
  response.headers = std::move(headers);
  return response;
}

LlmConfig openai_config() {
  LlmConfig config;
  config.url = "http://x/v1";
  config.model = "m";
  config.timeout_ms = 60000;
  return config;
}

}  // namespace

TEST(LlmCall, RetriesWhatPassesWithBackoffAndRecordsEveryAttempt) {
  ScriptedService service;
  service.answers = {answer(429, R"({"error": {"message": "Rate limit reached"}})"),
                     answer(503, "<html>unavailable</html>"), answer(200, kPlanReply)};
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  LlmReply reply = call_llm(openai_config(), {{"user", "q"}}, 2, service.transport(), attempts, notices);
  EXPECT_EQ(reply.text, "{\"queries\": []}");
  EXPECT_EQ(service.sleeps, (std::vector<long>{500, 1000})) << "0.5 s doubling (no jitter with random 0)";
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status, 429);
  EXPECT_NE(attempts[0].error.find("Rate limit"), std::string::npos);
  EXPECT_EQ(attempts[1].waited_ms, 500);
  EXPECT_EQ(attempts[2].status, 200);
  EXPECT_TRUE(attempts[2].error.empty());
  EXPECT_TRUE(notices.empty());
}

TEST(LlmCall, HonoursRetryAfterAndGivesUpAfterTheRetries) {
  ScriptedService service;
  service.answers = {answer(429, "{}", {{"retry-after-ms", "1500"}}), answer(529, "{}", {{"retry-after", "2"}}),
                     answer(503, "{}")};
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  try {
    call_llm(openai_config(), {{"user", "q"}}, 2, service.transport(), attempts, notices);
    FAIL() << "no error";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("(after 3 attempts)"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), LlmError::Kind::kRetryable);
  }
  EXPECT_EQ(service.sleeps, (std::vector<long>{1500, 2000}));
  EXPECT_EQ(attempts.size(), 3u);
  // A wait longer than a minute is not the service's to ask: the backoff applies.
  EXPECT_EQ(retry_delay_ms(0, 120000, 0.0), 500);
  EXPECT_EQ(retry_delay_ms(5, -1, 0.0), 8000) << "at most 8 s";
  EXPECT_EQ(retry_delay_ms(0, -1, 0.999), 375) << "up to a quarter less at random";
}

TEST(LlmCall, ShouldRetryHeaderAndFinalErrors) {
  ScriptedService service;
  service.answers = {answer(400, R"({"error": {"message": "bad request"}})")};
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  EXPECT_THROW(call_llm(openai_config(), {{"user", "q"}}, 2, service.transport(), attempts, notices), LlmError);
  EXPECT_EQ(attempts.size(), 1u) << "a 400 is not retried";

  ScriptedService told;
  told.answers = {answer(500, "{}", {{"x-should-retry", "false"}})};
  attempts.clear();
  EXPECT_THROW(call_llm(openai_config(), {{"user", "q"}}, 2, told.transport(), attempts, notices), LlmError);
  EXPECT_EQ(attempts.size(), 1u) << "x-should-retry: false wins over the status";

  ScriptedService connection;
  connection.answers = {answer(0, ""), answer(200, kPlanReply)};
  attempts.clear();
  EXPECT_EQ(call_llm(openai_config(), {{"user", "q"}}, 2, connection.transport(), attempts, notices).text,
            "{\"queries\": []}");
  EXPECT_EQ(attempts[0].status, 0) << "a connection error is retried";
}

TEST(LlmCall, TheTimeoutIsTheWholeBudget) {
  ScriptedService service;
  service.answers = {answer(429, "{}", {{"retry-after", "30"}}), answer(200, kPlanReply)};
  LlmConfig config = openai_config();
  config.timeout_ms = 20000;
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  try {
    call_llm(config, {{"user", "q"}}, 2, service.transport(), attempts, notices);
    FAIL() << "no error";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("no time was left in the LLM server's timeout (20000 ms) to wait 30000 ms"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(service.sleeps.empty());

  ScriptedService later;
  later.answers = {answer(503, "{}", {{"retry-after", "5"}}), answer(200, kPlanReply)};
  attempts.clear();
  call_llm(config, {{"user", "q"}}, 2, later.transport(), attempts, notices);
  ASSERT_EQ(later.timeouts.size(), 2u);
  EXPECT_EQ(later.timeouts[1], 20000 - 10 - 5000) << "each request gets what is left of the budget";
}

TEST(LlmCall, AnInterruptedWaitEndsTheCall) {
  ScriptedService service;
  service.answers = {answer(429, "{}")};
  service.interrupt_on_sleep = true;
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  try {
    call_llm(openai_config(), {{"user", "q"}}, 2, service.transport(), attempts, notices);
    FAIL() << "no error";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpError::Kind::kAborted);
  }
  EXPECT_EQ(attempts.size(), 1u);
}

TEST(LlmCall, AModelThatRefusesAParameterIsAskedOnceMoreWithoutIt) {
  ScriptedService service;
  service.answers = {
      answer(400, R"({"error": {"message": "Unsupported value: 'temperature' does not support 0 with this model.", "param": "temperature"}})"),
      answer(400, R"({"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model.", "param": "max_tokens"}})"),
      answer(200, kPlanReply)};
  std::vector<LlmAttempt> attempts;
  std::vector<std::string> notices;
  call_llm(openai_config(), {{"user", "q"}}, 0, service.transport(), attempts, notices);
  ASSERT_EQ(service.requests.size(), 3u) << "not counted as retries (llm_retries 0 here)";
  EXPECT_NE(service.requests[0].body.find("\"temperature\""), std::string::npos);
  EXPECT_EQ(service.requests[1].body.find("\"temperature\""), std::string::npos);
  EXPECT_NE(service.requests[1].body.find("\"max_tokens\""), std::string::npos);
  EXPECT_NE(service.requests[2].body.find("\"max_completion_tokens\""), std::string::npos);
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_NE(notices[0].find("temperature 'none'"), std::string::npos);
  EXPECT_NE(notices[1].find("token_limit_field 'max_completion_tokens'"), std::string::npos);
  EXPECT_TRUE(service.sleeps.empty());

  ScriptedService stubborn;  // the same refusal again is final
  stubborn.answers = {
      answer(400, R"({"error": {"message": "x", "param": "temperature"}})"),
      answer(400, R"({"error": {"message": "x", "param": "temperature"}})")};
  attempts.clear();
  EXPECT_THROW(call_llm(openai_config(), {{"user", "q"}}, 2, stubborn.transport(), attempts, notices), LlmError);
  EXPECT_EQ(attempts.size(), 2u);
}

TEST(HttpResponse, RetryAfterInEveryForm) {
  HttpResponse response;
  EXPECT_EQ(retry_after_ms(response, 0), -1);
  response.headers = {{"retry-after", "3"}};
  EXPECT_EQ(retry_after_ms(response, 0), 3000);
  response.headers = {{"retry-after-ms", "250.5"}, {"retry-after", "3"}};
  EXPECT_EQ(retry_after_ms(response, 0), 250);
  response.headers = {{"retry-after", "Wed, 21 Oct 2015 07:28:10 GMT"}};
  EXPECT_EQ(retry_after_ms(response, 1445412480), 10000);
  response.headers = {{"retry-after", "soon"}};
  EXPECT_EQ(retry_after_ms(response, 0), -1);
}
