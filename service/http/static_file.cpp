#include "http/static_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bankd::http {

static_file static_file::load(const std::filesystem::path& path, std::string content_type,
                              std::vector<std::pair<std::string, std::string>> headers) {
  static_file file;
  file.path_ = path;
  file.content_type_ = std::move(content_type);
  file.headers_ = std::move(headers);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  if (in) bytes << in.rdbuf();
  if (!in || in.bad()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): called at start-up, before any thread.
    file.error_ = std::strerror(errno);
    return file;
  }
  file.body_ = std::move(bytes).str();
  file.loaded_ = true;
  return file;
}

response static_file::respond() const {
  if (!loaded_) return error_response(status::not_found, "not_found", "not installed with this bankd");
  response res{status::ok, 11};
  res.set(beast_http::field::content_type, content_type_);
  // Revalidate on every use: a new bankd may serve a new document.
  res.set(beast_http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : headers_) res.set(name, value);
  res.body() = body_;
  res.prepare_payload();
  return res;
}

}  // namespace bankd::http
