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
#include <mutex>
#include <string>
#include <unordered_map>
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
  std::size_t max_connections_per_client = 1'000;  // from one address; 0: no cap
};

// Open connections per client address, for max_connections_per_client.
// Thread-safe: the listener adds, each session removes itself from its own
// thread when it ends.
class client_connections {
public:
  // Counts one more connection from `client` unless it already has `cap`
  // (0: no cap); false when refused.
  bool try_add(const boost::asio::ip::address& client, std::size_t cap);
  void remove(const boost::asio::ip::address& client);

private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> open_;  // address text -> connections
};

// What the session knows of a request (its id and the client's address),
// and what the request handler adds for the per-request log line.
struct request_log {
  std::string request_id;        // the client's X-Request-Id when valid, else a new one; sent back
  std::string peer;              // the client's address
  std::string_view route = "-";  // pattern, e.g. "/users/{id}"
  int attempts = 0;              // transaction attempts, 0 when none ran
  std::string_view error;        // error code sent to the client, if any
};

// X-Request-Id: a client's own id is kept when it is 1..128 characters of
// letters, digits and "-._:+/=" (logs and headers carry it verbatim); any
// other value, or none, is replaced by a new id, unique per process run.
std::string request_id_for(std::string_view from_client);

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
  client_connections* clients;                 // shared by all threads
};

boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, session_env& env);

// Sent to a connection over the limit, then closed.
boost::asio::awaitable<void> refuse_session(boost::asio::ip::tcp::socket socket);

}  // namespace bankd::http
