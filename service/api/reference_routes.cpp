#include "api/reference_routes.hpp"

#include "util/log.hpp"

namespace bankd::api {
namespace net = boost::asio;
namespace fs = std::filesystem;
using http::beast_http::verb;

namespace {

fs::path default_directory() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "share/bankd/api";
  return (exe.parent_path() / ".." / "share" / "bankd" / "api").lexically_normal();
}

// The page's script and styles are inline (see tools/npm/build-api-docs.mjs);
// this keeps a browser from fetching anything else on its behalf. Redoc runs
// its search index in a worker made from a blob.
constexpr const char* docs_policy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; worker-src blob:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

void log_missing(const http::static_file& file) {
  if (!file.loaded())
    log::warn("api_reference.missing").kv("file", file.path().string()).kv("error", file.error());
}

void add_file(http::router<http::endpoint>& routes, const char* path, const http::static_file& file) {
  routes.add(verb::get, path, [&file](http::request_context&) -> net::awaitable<http::response> {
    co_return file.respond();
  });
}

}  // namespace

api_reference api_reference::load(const fs::path& dir) {
  const auto base = dir.empty() ? default_directory() : dir;
  api_reference files{
      http::static_file::load(base / "openapi.yaml", "application/yaml"),
      http::static_file::load(base / "openapi.json", "application/json"),
      http::static_file::load(base / "docs.html", "text/html; charset=utf-8",
                              {{"Content-Security-Policy", docs_policy}}),
  };
  for (const auto* file : {&files.yaml, &files.json, &files.html}) log_missing(*file);
  return files;
}

void add_reference_routes(http::router<http::endpoint>& routes, const api_reference& files) {
  add_file(routes, "/openapi.yaml", files.yaml);
  add_file(routes, "/openapi.json", files.json);
  add_file(routes, "/docs", files.html);
}

}  // namespace bankd::api
