#include "support/http_client.hpp"

#include "support/exchange_log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>


namespace bankd::test {
namespace net = boost::asio;
namespace http = boost::beast::http;

std::string http_reply::error_code() const {
  try {
    auto j = json();
    return j.at("error").at("code").get<std::string>();
  } catch (...) {
    return "";
  }
}

std::string http_reply::header(const std::string& name) const {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto it = headers.find(lower);
  return it == headers.end() ? "" : it->second;
}

http_client::http_client(std::uint16_t port, std::string bearer)
    : stream_(ioc_), port_(port), bearer_(std::move(bearer)) {
  connect();
}

http_client::http_client(std::uint16_t port, std::string bearer, std::string source_address)
    : stream_(ioc_), port_(port), bearer_(std::move(bearer)), source_(std::move(source_address)) {
  connect();
}

void http_client::connect() {
  stream_.close();
  buffer_.clear();
  stream_.expires_after(std::chrono::seconds(10));
  if (!source_.empty()) {
    auto& socket = stream_.socket();
    socket.open(net::ip::tcp::v4());
    socket.bind(net::ip::tcp::endpoint(net::ip::make_address(source_), 0));
  }
  stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  open_ = true;
}

void http_client::set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

http_reply http_client::read_reply() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (timeout_.count() == 0) {
    http::read(stream_, buffer_, parser);
  } else {
    // Beast's expiry applies to asynchronous operations only.
    boost::system::error_code failed;
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) { failed = ec; });
    ioc_.restart();
    ioc_.run();
    if (failed) {
      open_ = false;
      throw boost::system::system_error(failed, "reading the response");
    }
  }
  auto res = parser.release();
  http_reply reply;
  reply.status = res.result_int();
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    reply.headers[name] = std::string(field.value());
  }
  reply.body = std::move(res.body());
  if (!res.keep_alive()) open_ = false;
  return reply;
}

http_reply http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer_.empty()) req.set(http::field::authorization, "Bearer " + bearer_);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  if (!open_) connect();
  stream_.expires_after(std::chrono::seconds(10));
  http::write(stream_, req);
  auto reply = read_reply();
  record(req, reply);
  return reply;
}

void http_client::record(const http::request<http::string_body>& req, const http_reply& reply) {
  exchange e{std::string(req.method_string()), std::string(req.target()), {}, reply.status, reply.headers, &reply.body};
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    e.request_headers[name] = std::string(field.value());
  }
  record_exchange(e);
}

http_reply http_client::post(const std::string& target, const nlohmann::json& body,
                             const std::map<std::string, std::string>& headers) {
  return request("POST", target, body.dump(), headers);
}

http_reply http_client::patch(const std::string& target, const nlohmann::json& body) {
  return request("PATCH", target, body.dump());
}

http_reply http_client::raw(const std::string& bytes) {
  if (!open_) connect();
  stream_.expires_after(std::chrono::seconds(10));
  net::write(stream_, net::buffer(bytes));
  return read_reply();
}

}  // namespace bankd::test
