#include "loadtest/http_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace bankd::loadtest {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
// Audit answers list every audited account; 10,000 accounts fit easily.
constexpr std::uint64_t body_limit = 32 * 1024 * 1024;

http::request<http::string_body> make_request(http::verb method, std::string_view target,
                                              const endpoint& where, const request_parts& parts) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, where.text());
  req.set(http::field::user_agent, "bank-loadtest");
  if (!parts.bearer.empty())
    req.set(http::field::authorization, "Bearer " + std::string(parts.bearer));
  if (!parts.idempotency_key.empty()) req.set("Idempotency-Key", parts.idempotency_key);
  if (!parts.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(parts.body);
  }
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

}  // namespace

http_connection::http_connection(net::any_io_executor executor, endpoint where)
    : where_(std::move(where)), stream_(std::move(executor)) {}

void http_connection::close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

net::awaitable<boost::system::error_code> http_connection::connect() {
  if (resolved_.empty()) {
    tcp::resolver resolver(stream_.get_executor());
    auto [ec, results] =
        co_await resolver.async_resolve(where_.host, std::to_string(where_.port), use_tuple);
    if (ec) co_return ec;
    resolved_ = std::move(results);
  }
  auto [ec, ignored] = co_await stream_.async_connect(resolved_, use_tuple);
  if (ec) co_return ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);  // latency, not throughput, if it fails
  connected_ = true;
  co_return boost::system::error_code{};
}

net::awaitable<exec_result> http_connection::exec(http::verb method, std::string_view target,
                                                  const request_parts& parts,
                                                  std::chrono::milliseconds timeout,
                                                  after_write then) {
  stream_.expires_after(timeout);
  if (!connected_) {
    if (auto ec = co_await connect()) {
      close();
      co_return exec_failure{ec, false};
    }
  }
  auto req = make_request(method, target, where_, parts);
  if (auto [ec, n] = co_await http::async_write(stream_, req, use_tuple); ec) {
    close();
    co_return exec_failure{ec};
  }
  if (then == after_write::hang_up) {
    close();
    co_return exec_failure{net::error::operation_aborted};
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  if (auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple); ec) {
    close();
    co_return exec_failure{ec};
  }
  stream_.expires_never();
  auto res = parser.release();
  reply out{res.result_int(), std::move(res.body()), res["Idempotent-Replayed"] == "true",
            res.count(boost::beast::http::field::retry_after) > 0};
  if (!res.keep_alive()) close();
  co_return out;
}

}  // namespace bankd::loadtest
