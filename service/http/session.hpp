#pragma once
// One coroutine per TCP connection: HTTP/1.1 with keep-alive and pipelining
// (requests are answered in order), limits on header and body size, and two
// timeouts: idle (waiting for the next request) and read (receiving one
// request once its first byte arrived), which closes slow clients.

#include "http/message.hpp"
#include "util/task_group.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bankd::http {

struct server_limits {
  std::size_t body_limit = std::size_t{64} * 1024;
  // Paths that take larger bodies (a batch of transfers), and their limit.
  std::vector<std::pair<std::string, std::size_t>> large_bodies;
  std::size_t body_limit_for(std::string_view path) const noexcept {
    for (const auto& [large, limit] : large_bodies)
      if (path == large) return limit;
    return body_limit;
  }
  std::size_t header_limit = std::size_t{8} * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_connections = 10'000;  // for the whole process
};

// Filled in by the request handler for the per-request log line.
struct request_log {
  std::string_view route = "-";  // pattern, e.g. "/users/{id}"
  int attempts = 0;              // transaction attempts, 0 when none ran
  std::string_view error;        // error code sent to the client, if any
};

using request_handler = std::function<boost::asio::awaitable<response>(request&, request_log&)>;

// What the sessions of one io_context thread share; used from that thread only.
//
// Shutdown: set `stopping` and emit total cancellation to `sessions`. A
// session lets total cancellation through only while it waits idle for the
// next request, so idle keep-alive connections close at once and requests in
// flight are answered (with Connection: close). Terminal cancellation, for
// what is left after the grace period, goes through at every point.
struct session_env {
  request_handler handler;
  util::task_group* sessions;
  bool stopping = false;
  server_limits limits;
  std::atomic<std::size_t>* open_connections;  // shared by all threads
};

boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, session_env& env);

// Sent to a connection over the limit, then closed.
boost::asio::awaitable<void> refuse_session(boost::asio::ip::tcp::socket socket);

}  // namespace bankd::http
