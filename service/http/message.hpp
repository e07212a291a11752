#pragma once
// HTTP message types and the JSON response helpers every handler uses.
// Every error leaves bankd as {"error":{"code":"...","message":"..."}}.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace bankd::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using status = beast_http::status;

response json_response(status code, const nlohmann::json& body);
response error_response(status code, std::string_view error_code, std::string_view message);
// 503 with Retry-After, for overload and transient database trouble.
response unavailable_response(std::string_view error_code, std::string_view message,
                              std::chrono::seconds retry_after = std::chrono::seconds(1));

}  // namespace bankd::http
