#include "core/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr int kPollMs = 50;

struct BodySink {
  std::string* body;
  size_t limit;
  bool too_large;
};

// Returning less than it was given makes libcurl stop the transfer (CURLE_WRITE_ERROR).
size_t append_body(char* data, size_t size, size_t count, void* target) {
  BodySink* sink = static_cast<BodySink*>(target);
  size_t bytes = size * count;
  if (bytes > sink->limit - sink->body->size()) {
    sink->too_large = true;
    return 0;
  }
  sink->body->append(data, bytes);
  return bytes;
}

// Header lines as they come; a status line starts a new response (after a 100 Continue or a redirect), so
// only the final response's headers stay.
size_t collect_header(char* data, size_t size, size_t count, void* target) {
  HttpHeaders* headers = static_cast<HttpHeaders*>(target);
  size_t bytes = size * count;
  std::string line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos || headers->size() >= kMaxHeaders || line.size() > kMaxHeaderBytes) return bytes;
  std::string name = line.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t start = line.find_first_not_of(" \t", colon + 1);
  headers->emplace_back(name, start == std::string::npos ? "" : line.substr(start));
  return bytes;
}

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

HttpResponse http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                       long timeout_ms, size_t max_body_bytes, const std::function<bool()>& should_abort) {
  ensure_curl_initialised();
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!easy || !multi) throw std::bad_alloc();

  curl_slist* raw_list = nullptr;
  for (const std::string& header : headers) {
    curl_slist* extended = curl_slist_append(raw_list, header.c_str());
    if (extended == nullptr) {
      curl_slist_free_all(raw_list);
      throw std::bad_alloc();
    }
    raw_list = extended;
  }
  std::unique_ptr<curl_slist, ListDeleter> header_list(raw_list);

  HttpResponse response;
  BodySink sink{&response.body, max_body_bytes, false};
  char error_text[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: the backend owns its signals
  curl_easy_setopt(easy.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "multidb/0.2");
  curl_multi_add_handle(multi.get(), easy.get());

  int running = 1;
  while (running > 0) {
    CURLMcode code = curl_multi_perform(multi.get(), &running);
    if (code != CURLM_OK) throw HttpError(HttpError::Kind::kTransport, curl_multi_strerror(code));
    if (running == 0) break;
    if (should_abort && should_abort()) {
      curl_multi_remove_handle(multi.get(), easy.get());
      throw HttpError(HttpError::Kind::kAborted, "the request was interrupted");
    }
    code = curl_multi_poll(multi.get(), nullptr, 0, kPollMs, nullptr);
    if (code != CURLM_OK) throw HttpError(HttpError::Kind::kTransport, curl_multi_strerror(code));
  }

  CURLcode result = CURLE_OK;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi.get(), &queued))
    if (message->msg == CURLMSG_DONE) result = message->data.result;
  curl_multi_remove_handle(multi.get(), easy.get());

  if (sink.too_large)
    throw HttpError(HttpError::Kind::kTooLarge, "the reply is longer than " + std::to_string(max_body_bytes) +
                                                    " bytes (multidb.llm_max_reply_size); the rest was not read");
  if (result == CURLE_OPERATION_TIMEDOUT)
    throw HttpError(HttpError::Kind::kTimeout, "no answer within " + std::to_string(timeout_ms) + " ms");
  if (result != CURLE_OK)
    throw HttpError(HttpError::Kind::kTransport, error_text[0] ? error_text : curl_easy_strerror(result));
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

const std::string* HttpResponse::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return &value;
  return nullptr;
}

void interruptible_sleep(long ms, const std::function<bool()>& should_abort) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (should_abort && should_abort()) throw HttpError(HttpError::Kind::kAborted, "the request was interrupted");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(kPollMs)));
  }
  if (should_abort && should_abort()) throw HttpError(HttpError::Kind::kAborted, "the request was interrupted");
}

long retry_after_ms(const HttpResponse& response, long now_epoch_s) {
  auto number = [](const std::string& text, double* value) {
    char* end;
    *value = std::strtod(text.c_str(), &end);
    return end != text.c_str() && *end == '\0' && std::isfinite(*value) && *value >= 0;
  };
  double value;
  if (const std::string* ms = response.header("retry-after-ms"); ms && number(*ms, &value))
    return static_cast<long>(std::min(value, 86400000.0));
  const std::string* after = response.header("retry-after");
  if (after == nullptr) return -1;
  if (number(*after, &value)) return static_cast<long>(std::min(value, 86400.0) * 1000);
  time_t when = curl_getdate(after->c_str(), nullptr);
  if (when < 0) return -1;
  return when > now_epoch_s ? std::min(static_cast<long>(when - now_epoch_s), 86400L) * 1000 : 0;
}

}  // namespace multidb
