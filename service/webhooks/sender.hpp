#pragma once
// One webhook endpoint's HTTP client: POSTs a delivery and reports whether
// the receiver acknowledged it (a 2xx answer). Keeps its connection open
// between deliveries when the receiver allows it; never follows redirects;
// reads at most 64 KiB of an answer and ignores it. Every step (name
// resolution, connect, write, read) fits in the delivery's timeout.
//
// One per endpoint lane, on one io_context thread; not thread-safe.

#include "util/host_allowlist.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bankd::webhooks {

struct delivery_request {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON
};

struct delivery_outcome {
  bool acknowledged = false;
  std::string failure;  // for the endpoint's last_error: "HTTP 500", "timeout", "connection refused"
  bool closed_before_answer = false;  // the connection ended before a byte of an answer came
};

class http_sender {
 public:
  explicit http_sender(boost::asio::any_io_executor ex);

  boost::asio::awaitable<delivery_outcome> post(const util::http_address& to, const delivery_request& req,
                                                std::chrono::milliseconds timeout);
  // Closes the connection; a post in progress fails.
  void close();

 private:
  boost::asio::awaitable<boost::system::error_code> connect(const util::http_address& to,
                                                            std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<delivery_outcome> exchange(const util::http_address& to, const delivery_request& req,
                                                    std::chrono::steady_clock::time_point deadline);

  boost::asio::any_io_executor ex_;
  std::optional<boost::beast::tcp_stream> stream_;
  std::string connected_to_;  // host:port of stream_
  boost::beast::flat_buffer buffer_;
};

}  // namespace bankd::webhooks
