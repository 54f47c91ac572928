// The web UI: GET / (its page, index.html) and GET /ui/{file} (the bundle esbuild built: app.js, app.css, …,
// read from --ui-dir where `make install` put them). Public, like the API page: the UI signs in through the API,
// and every answer with data needs a sign-in. A file is served only by a plain name of that directory — letters,
// digits, '.', '_', '-', not starting with '.', at most 128 bytes, a type named below by its extension, a regular
// file — so no request reaches outside it (no '/', no '..', no hidden file, no directory). Every answer carries the
// page's security headers; each file has an ETag, so a browser asks again cheaply (304) and never runs an old
// app.js against a new API.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"

namespace multidb::gateway {

namespace {

// The types the UI's files may have, by extension; any other file is not served.
struct UiType {
  const char* extension;
  const char* type;
};
const UiType kUiTypes[] = {{".html", "text/html; charset=utf-8"},
                           {".js", "text/javascript; charset=utf-8"},
                           {".css", "text/css; charset=utf-8"},
                           {".txt", "text/plain; charset=utf-8"},
                           {".json", "application/json"},
                           {".map", "application/json"},
                           {".svg", "image/svg+xml"},
                           {".png", "image/png"},
                           {".ico", "image/x-icon"},
                           {".woff2", "font/woff2"}};

constexpr size_t kMaxUiName = 128;

// default-src 'self': no CDN, no inline script; CodeMirror adds <style> elements, hence style-src's inline;
// frame-ancestors 'none': no other page may frame the UI (clickjacking).
const char* const kUiPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

void security_headers(httplib::Response& response) {
  response.set_header("Content-Security-Policy", kUiPolicy);
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "same-origin");
}

// The file's type, or nullptr when name is not one the UI may serve.
const char* ui_type(const std::string& name) {
  if (name.empty() || name.size() > kMaxUiName || name[0] == '.') return nullptr;
  if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    return nullptr;
  for (const UiType& t : kUiTypes) {
    const std::string extension = t.extension;
    if (name.size() > extension.size() && name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
      return t.type;
  }
  return nullptr;
}

// A strong validator of the content: its FNV-1a 64-bit hash and its length (cache validation, not secrecy).
std::string etag_of(const std::string& content) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char text[48];
  std::snprintf(text, sizeof text, "\"%016llx-%zx\"", static_cast<unsigned long long>(hash), content.size());
  return text;
}

// Whether an If-None-Match header names etag (a list of tags, or *).
bool matches(const std::string& if_none_match, const std::string& etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match.find('*') != std::string::npos) return true;
  return if_none_match.find(etag) != std::string::npos;
}

ApiError not_installed(const std::string& dir, const std::string& name) {
  return ApiError(404, "no file " + name + " of the web UI in " + dir,
                  "the web UI's files are where --ui-dir (MULTIDB_WEB_UI_DIR) points: `make install` builds them "
                  "(npm and esbuild) and puts them in $(pg_config --sharedir)/multidb-web/ui; or point --ui-dir at "
                  "a built web/dist",
                  "58P01");
}

void serve_ui_file(const std::string& dir, const std::string& name, const httplib::Request& request,
                   httplib::Response& response) {
  security_headers(response);
  const char* type = ui_type(name);
  if (!type) {
    write_error(response, 404,
                ApiError(404, "no such file of the web UI: " + name.substr(0, kMaxUiName),
                         "the web UI is at /; its files are /ui/app.js, /ui/app.css")
                    .body());
    return;
  }
  const std::string path = dir + "/" + name;
  struct stat info {};
  std::ifstream in;
  if (stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) in.open(path, std::ios::binary);
  if (!in.is_open() || !in) {
    write_error(response, 404, not_installed(dir, name).body());
    return;
  }
  std::ostringstream content;
  content << in.rdbuf();
  const std::string body = content.str(), etag = etag_of(body);
  response.set_header("ETag", etag);
  // Asked again each time, answered 304 while the file is unchanged: a new install is seen at once.
  response.set_header("Cache-Control", "no-cache");
  if (matches(request.get_header_value("If-None-Match"), etag)) {
    response.status = 304;
    return;
  }
  response.set_content(body, type);
}

}  // namespace

void install_ui_routes(httplib::Server& server, Gateway& gateway) {
  const std::string dir = gateway.options().ui_dir;
  gateway.raw_route(server, "GET", "/", [dir](const httplib::Request& request, httplib::Response& response) {
    serve_ui_file(dir, "index.html", request, response);
  });
  gateway.raw_route(server, "GET", R"(/ui/([A-Za-z0-9._-]+))",
                    [dir](const httplib::Request& request, httplib::Response& response) {
    serve_ui_file(dir, request.matches[1], request, response);
  });
}

}  // namespace multidb::gateway
