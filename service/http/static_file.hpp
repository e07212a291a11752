#pragma once
// A file read once at start-up and served from memory, for the few documents
// bankd publishes (its OpenAPI document and API reference page). Immutable
// after load(), so the io_context threads may share one instance.

#include "http/message.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace bankd::http {

class static_file {
public:
  // Reads `path` whole. A file that cannot be read leaves the object empty:
  // respond() then answers 404, and error() says why.
  static static_file load(const std::filesystem::path& path, std::string content_type,
                          std::vector<std::pair<std::string, std::string>> headers = {});

  bool loaded() const noexcept { return loaded_; }
  const std::string& error() const noexcept { return error_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  // 200 with the file, its content type and headers; 404 not_found (JSON)
  // when it was not loaded. Copies the body: these files are read rarely.
  response respond() const;

private:
  std::filesystem::path path_;
  std::string content_type_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  std::string error_;
  bool loaded_ = false;
};

}  // namespace bankd::http
