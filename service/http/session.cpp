#include "http/session.hpp"

#include "util/crypto.hpp"
#include "util/log.hpp"
#include "util/scope_exit.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <charconv>

namespace bankd::http {
namespace net = boost::asio;
namespace beast = boost::beast;
using clock = std::chrono::steady_clock;

bool client_connections::try_add(const net::ip::address& client, std::size_t cap) {
  std::lock_guard lock(mutex_);
  auto& open = open_[client.to_string()];
  if (cap != 0 && open >= cap) {
    if (open == 0) open_.erase(client.to_string());
    return false;
  }
  ++open;
  return true;
}

void client_connections::remove(const net::ip::address& client) {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(client.to_string());
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

std::string request_id_for(std::string_view from_client) {
  constexpr std::size_t max_length = 128;
  const bool acceptable = !from_client.empty() && from_client.size() <= max_length &&
                          std::all_of(from_client.begin(), from_client.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                   std::string_view("-._:+/=").find(c) != std::string_view::npos;
                          });
  if (acceptable) return std::string(from_client);
  // A random prefix per process and a counter: unique across instances
  // without a random draw per request.
  static const std::string prefix = util::random_token(9);
  static std::atomic<std::uint64_t> counter{0};
  char digits[17];
  const auto n = counter.fetch_add(1, std::memory_order_relaxed);
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, 16);
  (void)ec;
  return prefix + "-" + std::string(digits, end);
}

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string size_text(std::size_t bytes) {
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// What to tell a client whose request could not be read; nothing when the
// connection simply ended or timed out.
std::optional<response> read_error_response(const boost::system::error_code& ec,
                                            const server_limits& limits, std::string_view target) {
  if (ec == beast_http::error::header_limit)
    return error_response(status::request_header_fields_too_large, "headers_too_large",
                          "request headers exceed " + size_text(limits.header_limit));
  if (ec == beast_http::error::body_limit)
    return error_response(status::payload_too_large, "body_too_large",
                          "request body exceeds " + size_text(limits.body_limit_for(path_of(target))));
  if (ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message ||
      ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::eof || ec == net::error::connection_reset)
    return std::nullopt;
  // Any other parser error: the bytes are not valid HTTP/1.1.
  if (ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category())
    return error_response(status::bad_request, "malformed_request", "malformed HTTP request");
  return std::nullopt;
}


void log_request(const request& req, const response& res, const request_log& info,
                 clock::time_point started) {
  const double ms =
      std::chrono::duration<double, std::milli>(clock::now() - started).count();
  const auto code = res.result_int();
  auto line = code >= 500 ? log::warn("http.request") : log::info("http.request");
  line.kv("request_id", info.request_id)
      .kv("method", beast_http::to_string(req.method()))
      .kv("path", path_of(req.target()))
      .kv("route", info.route)
      .kv("status", code)
      .kv("ms", ms);
  if (info.attempts > 0) line.kv("attempts", info.attempts);
  if (!info.error.empty()) line.kv("error", info.error);
}

// Waits for the first byte of the next request; false when the connection
// should end (closed by the peer, idle timeout, or shutdown).
net::awaitable<bool> await_next_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                        const session_env& env) {
  if (buffer.size() > 0) co_return true;  // a pipelined request is already here
  if (env.stopping) co_return false;
  co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
  stream.expires_after(env.limits.idle_timeout);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
  co_await net::this_coro::reset_cancellation_state(net::enable_terminal_cancellation());
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

}  // namespace

// Reads one request into `parser`, answering "Expect: 100-continue" once the
// header is accepted.
net::awaitable<boost::system::error_code> read_request(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    beast_http::request_parser<beast_http::string_body>& parser, const server_limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  // The largest limit until the header says which path this is: Beast holds
  // a Content-Length against the limit as soon as the header is parsed.
  std::size_t largest = limits.body_limit;
  for (const auto& [path, limit] : limits.large_bodies) largest = std::max(largest, limit);
  parser.body_limit(largest);
  stream.expires_after(limits.read_timeout);
  auto [ec, header_bytes] = co_await beast_http::async_read_header(stream, buffer, parser, use_tuple);
  // Beast counts its limit from where each parse call starts, so a header
  // that arrived together with the first read can pass it: measure the whole.
  if (!ec && header_bytes > limits.header_limit) ec = beast_http::error::header_limit;
  if (ec) co_return ec;
  const auto limit = limits.body_limit_for(path_of(parser.get().target()));
  if (const auto length = parser.content_length(); length && *length > limit) co_return beast_http::error::body_limit;
  parser.body_limit(limit);
  if (beast::iequals(parser.get()[beast_http::field::expect], "100-continue")) {
    beast_http::response<beast_http::empty_body> go_on{status::continue_, 11};
    co_await beast_http::async_write(stream, go_on, use_tuple);
  }
  std::tie(ec, std::ignore) = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
  co_return ec;
}

net::awaitable<void> run_session(net::ip::tcp::socket socket, session_env& env) {
  boost::system::error_code peer_error;
  const auto peer = socket.remote_endpoint(peer_error).address();
  util::scope_exit unregister{[&] {
    env.open_connections->fetch_sub(1, std::memory_order_relaxed);
    if (env.clients != nullptr) env.clients->remove(peer);
  }};
  // A cancelled operation reports operation_aborted like any other error; the
  // loop below decides what that means.
  co_await net::this_coro::throw_if_cancelled(false);
  co_await net::this_coro::reset_cancellation_state(net::enable_terminal_cancellation());
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;

  while (co_await await_next_request(stream, buffer, env)) {
    beast_http::request_parser<beast_http::string_body> parser;
    const auto ec = co_await read_request(stream, buffer, parser, env.limits);
    if (ec) {
      if (auto res = read_error_response(ec, env.limits, parser.get().target())) {
        res->keep_alive(false);
        res->set("X-Request-Id", request_id_for(parser.get()["X-Request-Id"]));
        stream.expires_after(env.limits.write_timeout);
        co_await beast_http::async_write(stream, *res, use_tuple);
      }
      break;
    }

    const auto started = clock::now();
    request req = parser.release();
    request_log info;
    info.request_id = request_id_for(req["X-Request-Id"]);
    info.peer = peer.to_string();
    response res;
    try {
      res = co_await env.handler(req, info);
    } catch (const std::exception& e) {
      // The one place an unexpected exception becomes a response: log it all,
      // tell the client nothing about internals.
      log::error("http.unhandled_exception")
          .kv("request_id", info.request_id)
          .kv("path", path_of(req.target()))
          .kv("what", e.what());
      res = error_response(status::internal_server_error, "internal_error", "internal error");
      info.error = "internal_error";
    }
    // Terminal cancellation (the grace period is over): close without answering.
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) break;
    const bool keep_alive = req.keep_alive() && !env.stopping;
    res.keep_alive(keep_alive);
    res.set("X-Request-Id", info.request_id);
    stream.expires_after(env.limits.write_timeout);
    auto [wec, wn] = co_await beast_http::async_write(stream, res, use_tuple);
    log_request(req, res, info, started);
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> refuse_session(net::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto res = unavailable_response("too_many_connections", "connection limit reached");
  res.keep_alive(false);
  res.set("X-Request-Id", request_id_for({}));
  stream.expires_after(std::chrono::seconds(2));
  co_await beast_http::async_write(stream, res, use_tuple);
  boost::system::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace bankd::http
