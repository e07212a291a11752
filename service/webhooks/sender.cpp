#include "webhooks/sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace bankd::webhooks {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t max_answer_bytes = 64 * 1024;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout || ec == net::error::operation_aborted) return "timeout";
  if (ec == net::error::connection_refused) return "connection refused";
  return ec.message();
}

// The receiver closed a kept-alive connection before it saw the request: the
// request can be sent again on a new one.
bool stale_connection(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe;
}

}  // namespace

http_sender::http_sender(net::any_io_executor ex) : ex_(std::move(ex)) {}

void http_sender::close() {
  if (stream_) {
    boost::system::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_->close();
  }
  stream_.reset();
  connected_to_.clear();
  buffer_.clear();
}

net::awaitable<boost::system::error_code> http_sender::connect(const util::http_address& to,
                                                               std::chrono::steady_clock::time_point deadline) {
  tcp::resolver resolver(ex_);
  // The resolver has no timeout of its own: a timer cancels it.
  net::steady_timer guard(ex_, deadline);
  guard.async_wait([&resolver](const boost::system::error_code& ec) {
    if (!ec) resolver.cancel();
  });
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(to.host, std::to_string(to.port), use_tuple);
  guard.cancel();
  if (resolve_ec) co_return resolve_ec;
  stream_.emplace(ex_);
  stream_->expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream_->async_connect(endpoints, use_tuple);
  if (connect_ec) {
    close();
    co_return connect_ec;
  }
  connected_to_ = to.host + ":" + std::to_string(to.port);
  co_return boost::system::error_code{};
}

net::awaitable<delivery_outcome> http_sender::exchange(const util::http_address& to, const delivery_request& req,
                                                       std::chrono::steady_clock::time_point deadline) {
  bhttp::request<bhttp::string_body> message{bhttp::verb::post, to.target, 11};
  message.set(bhttp::field::host, to.authority);
  message.set(bhttp::field::content_type, "application/json");
  for (const auto& [name, value] : req.headers) message.set(name, value);
  message.body() = req.body;
  message.prepare_payload();
  stream_->expires_at(deadline);
  auto [write_ec, written] = co_await bhttp::async_write(*stream_, message, use_tuple);
  if (write_ec) co_return delivery_outcome{false, describe(write_ec), stale_connection(write_ec)};
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_answer_bytes);
  auto [read_ec, read] = co_await bhttp::async_read(*stream_, buffer_, parser, use_tuple);
  if (read_ec == bhttp::error::body_limit) co_return delivery_outcome{false, "answer larger than 64 KiB"};
  if (read_ec) co_return delivery_outcome{false, describe(read_ec), read == 0 && stale_connection(read_ec)};
  const auto& answer = parser.get();
  if (!answer.keep_alive()) close();
  const auto status = answer.result_int();
  if (status >= 200 && status < 300) co_return delivery_outcome{true, {}};
  co_return delivery_outcome{false, "HTTP " + std::to_string(status)};
}

net::awaitable<delivery_outcome> http_sender::post(const util::http_address& to, const delivery_request& req,
                                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool reused = stream_ && connected_to_ == to.host + ":" + std::to_string(to.port);
  if (!reused) {
    close();
    if (auto ec = co_await connect(to, deadline)) co_return delivery_outcome{false, describe(ec)};
  }
  auto outcome = co_await exchange(to, req, deadline);
  if (!outcome.acknowledged && outcome.closed_before_answer && reused) {
    // The receiver had closed the kept-alive connection: once more, on a new one.
    close();
    if (auto ec = co_await connect(to, deadline)) co_return delivery_outcome{false, describe(ec)};
    outcome = co_await exchange(to, req, deadline);
  }
  if (!outcome.acknowledged) close();
  co_return outcome;
}

}  // namespace bankd::webhooks
