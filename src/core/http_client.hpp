// HTTP POST over libcurl, interruptible: should_abort is polled every few tens of milliseconds, so a
// caller's Ctrl-C or statement_timeout stops a slow LLM call at once.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace multidb {

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpError : public std::runtime_error {
 public:
  enum class Kind { kTransport, kTimeout, kAborted, kTooLarge };
  HttpError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// A body longer than max_body_bytes stops the transfer there: HttpError kTooLarge.
HttpResponse http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                       long timeout_ms, size_t max_body_bytes, const std::function<bool()>& should_abort);

}  // namespace multidb
