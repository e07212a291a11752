#pragma once
// A blocking HTTP/1.1 client for integration tests: one keep-alive connection,
// JSON in and out.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <chrono>
#include <map>
#include <string>

namespace bankd::test {

struct http_reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string error_code() const;  // body's error.code, or ""
  std::string header(const std::string& name) const;
};

class http_client {
public:
  explicit http_client(std::uint16_t port, std::string bearer = {});
  // From another loopback address (127.0.0.2, ...), for per-address limits.
  http_client(std::uint16_t port, std::string bearer, std::string source_address);

  http_reply request(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {});
  http_reply get(const std::string& target) { return request("GET", target); }
  http_reply post(const std::string& target, const nlohmann::json& body,
                  const std::map<std::string, std::string>& headers = {});
  http_reply patch(const std::string& target, const nlohmann::json& body);
  http_reply del(const std::string& target) { return request("DELETE", target); }

  void set_bearer(std::string key) { bearer_ = std::move(key); }
  // How long request() waits at most for the answer; past it, request()
  // throws. Without it (the default), a request may wait for ever.
  void set_timeout(std::chrono::milliseconds t);
  // Writes raw bytes and reads one response (for malformed-request tests).
  // Unlike request(), not recorded for the contract check: the bytes need
  // not be a request of any operation.
  http_reply raw(const std::string& bytes);

private:
  void connect();
  http_reply read_reply();
  // For the contract check when it is on (support/exchange_log.hpp).
  void record(const boost::beast::http::request<boost::beast::http::string_body>& req, const http_reply& reply);

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::uint16_t port_;
  std::string bearer_;
  std::string source_;  // empty: any
  std::chrono::milliseconds timeout_{0};  // 0: none
  bool open_ = false;  // reconnect lazily, before the next request
};

}  // namespace bankd::test
