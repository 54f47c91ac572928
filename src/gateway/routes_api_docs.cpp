// The API's own document and page: GET /api/openapi.json (the OpenAPI 3.1 document src/gateway/openapi.json,
// compiled in), GET /api/docs (a page that shows it with swagger-ui) and GET /api/docs/{file} (swagger-ui-dist's
// files, read from --docs-dir where `make install` put them; never a CDN). Public: no sign-in needed.
#include <fstream>
#include <sstream>

#include "gateway/api_error.hpp"
#include "gateway/gateway.hpp"

namespace multidb::gateway {

namespace {

const char* const kOpenApi =
#include "gateway/openapi.json.inc"
    ;

const char* const kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>multidb-web API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/docs-init.js"></script>
</body>
</html>
)HTML";

// Inline scripts would need a looser Content-Security-Policy; this one is served as a file of its own.
const char* const kInit = "window.ui = SwaggerUIBundle({url: '/api/openapi.json', dom_id: '#swagger-ui'});\n";

// swagger-ui-dist's files the page uses, the only names served from --docs-dir (no path is built from a request).
struct Asset {
  const char* name;
  const char* type;
};
const Asset kAssets[] = {{"swagger-ui.css", "text/css"},
                         {"swagger-ui-bundle.js", "application/javascript"},
                         {"favicon-32x32.png", "image/png"}};

}  // namespace

void install_api_doc_routes(httplib::Server& server, Gateway& gateway) {
  gateway.raw_route(server, "GET", "/api/openapi.json", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kOpenApi, "application/json");
  });
  gateway.raw_route(server, "GET", "/api/docs", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    response.set_content(kPage, "text/html; charset=utf-8");
  });
  const std::string dir = gateway.options().docs_dir;
  gateway.raw_route(server, "GET", R"(/api/docs/([A-Za-z0-9._-]+))",
                    [dir](const httplib::Request& request, httplib::Response& response) {
    const std::string name = request.matches[1];
    if (name == "docs-init.js") {
      response.set_content(kInit, "application/javascript");
      return;
    }
    for (const Asset& asset : kAssets) {
      if (name != asset.name) continue;
      std::ifstream file(dir + "/" + asset.name, std::ios::binary);
      if (!file) {
        write_error(response, 404,
                    ApiError(404, "the API page's file " + name + " is not installed in " + dir,
                             "run `npm ci` in web/ before `make install`, or point --docs-dir at swagger-ui-dist")
                        .body());
        return;
      }
      std::ostringstream content;
      content << file.rdbuf();
      response.set_header("Cache-Control", "max-age=3600");
      response.set_content(content.str(), asset.type);
      return;
    }
    write_error(response, 404, ApiError(404, "no such file of the API page: " + name, "GET /api/docs").body());
  });
}

}  // namespace multidb::gateway
