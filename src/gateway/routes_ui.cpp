// The web UI: GET / (its page, index.html) and GET /ui/{file} (the bundle esbuild built: app.js, app.css,
// read from --ui-dir where `make install` put them). Public, like the API page: the UI signs in through the API,
// and every answer with data needs a sign-in. Only names of the UI's own files are served: a request never
// builds a path.
#include <fstream>
#include <sstream>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"

namespace multidb::gateway {

namespace {

struct UiFile {
  const char* name;
  const char* type;
};
const UiFile kUiFiles[] = {{"index.html", "text/html; charset=utf-8"},
                           {"app.js", "application/javascript; charset=utf-8"},
                           {"app.css", "text/css; charset=utf-8"},
                           {"app.js.LEGAL.txt", "text/plain; charset=utf-8"}};

// default-src 'self': no CDN, no inline script; CodeMirror adds <style> elements, hence style-src's inline.
const char* const kUiPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

void serve_ui_file(const std::string& dir, const UiFile& file, httplib::Response& response) {
  std::ifstream in(dir + "/" + file.name, std::ios::binary);
  if (!in) {
    write_error(response, 404,
                ApiError(404, std::string("the web UI's file ") + file.name + " is not installed in " + dir,
                         "run `make install` (it builds the UI with npm and esbuild), or point --ui-dir at web/dist")
                    .body());
    return;
  }
  std::ostringstream content;
  content << in.rdbuf();
  response.set_header("Content-Security-Policy", kUiPolicy);
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "same-origin");
  // The page and its bundle change together at an install: the browser asks again each time (a 200 of a few
  // tens of kB on loopback) rather than run an old app.js against a new API.
  response.set_header("Cache-Control", "no-cache");
  response.set_content(content.str(), file.type);
}

}  // namespace

void install_ui_routes(httplib::Server& server, Gateway& gateway) {
  const std::string dir = gateway.options().ui_dir;
  gateway.raw_route(server, "GET", "/", [dir](const httplib::Request&, httplib::Response& response) {
    serve_ui_file(dir, kUiFiles[0], response);
  });
  gateway.raw_route(server, "GET", R"(/ui/([A-Za-z0-9._-]+))",
                    [dir](const httplib::Request& request, httplib::Response& response) {
    const std::string name = request.matches[1];
    for (const UiFile& file : kUiFiles) {
      if (name == file.name) {
        serve_ui_file(dir, file, response);
        return;
      }
    }
    write_error(response, 404, ApiError(404, "no such file of the web UI: " + name, "GET / for the web UI").body());
  });
}

}  // namespace multidb::gateway
