// HTTP POST over libcurl, interruptible: should_abort is polled every few tens of milliseconds, so a
// caller's Ctrl-C or statement_timeout stops a slow LLM call at once.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace multidb {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;  // names in lower case

struct HttpResponse {
  long status = 0;
  std::string body;
  HttpHeaders headers;  // of the final response (not of a 100 Continue or a redirect before it)

  // The value of a header (name in lower case), or nullptr.
  const std::string* header(const std::string& name) const;
};

class HttpError : public std::runtime_error {
 public:
  enum class Kind { kTransport, kTimeout, kAborted, kTooLarge };
  HttpError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// A body longer than max_body_bytes stops the transfer there: HttpError kTooLarge. At most kMaxHeaders headers
// of at most kMaxHeaderBytes each are kept; the others are dropped.
constexpr size_t kMaxHeaders = 64;
constexpr size_t kMaxHeaderBytes = 8192;
HttpResponse http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                       long timeout_ms, size_t max_body_bytes, const std::function<bool()>& should_abort);

// Waits ms milliseconds, polling should_abort as http_post does: HttpError kAborted when it says so.
void interruptible_sleep(long ms, const std::function<bool()>& should_abort);

// How long a response asks the client to wait before trying again, in ms: retry-after-ms (OpenAI), else
// retry-after in seconds or as an HTTP date (RFC 9110) against now_epoch_s. -1 when it says nothing readable.
long retry_after_ms(const HttpResponse& response, long now_epoch_s);

}  // namespace multidb
