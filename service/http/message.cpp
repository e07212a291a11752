#include "http/message.hpp"

#include <nlohmann/json.hpp>

namespace bankd::http {

response json_response(status code, const nlohmann::json& body) {
  response res{code, 11};
  res.set(beast_http::field::content_type, "application/json");
  res.set(beast_http::field::cache_control, "no-store");
  // Text echoed from a request may not be UTF-8: replace, never throw.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.body().push_back('\n');
  res.prepare_payload();
  return res;
}

response error_response(status code, std::string_view error_code, std::string_view message) {
  return json_response(code, {{"error", {{"code", error_code}, {"message", message}}}});
}

response unavailable_response(std::string_view error_code, std::string_view message,
                              std::chrono::seconds retry_after) {
  auto res = error_response(status::service_unavailable, error_code, message);
  res.set(beast_http::field::retry_after, std::to_string(retry_after.count()));
  return res;
}

}  // namespace bankd::http
