#pragma once
// GET /openapi.yaml, /openapi.json and /docs: the API's OpenAPI document and
// the HTML reference built from it, installed in share/bankd/api next to the
// binary (docs/openapi.yaml; the other two are made by the build when the npm
// tools are there, see tools/npm). A file that is missing answers 404.

#include "http/endpoint.hpp"
#include "http/static_file.hpp"

#include <filesystem>

namespace bankd::api {

struct api_reference {
  http::static_file yaml;
  http::static_file json;
  http::static_file html;

  // Reads the three files from `dir` (empty: <bin>/../share/bankd/api) and
  // logs the ones missing. Never throws: bankd serves without them.
  static api_reference load(const std::filesystem::path& dir);
};

// `files` must outlive the routes; it is shared by all threads, read only.
void add_reference_routes(http::router<http::endpoint>& routes, const api_reference& files);

}  // namespace bankd::api
