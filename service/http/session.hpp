#pragma once
// One coroutine per TCP connection: HTTP/1.1 with keep-alive and pipelining
// (requests are answered in order), limits on header and body size, and two
// timeouts: idle (waiting for the next request) and read (receiving one
// request once its first byte arrived), which closes slow clients.

#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <list>

namespace bankd::http {

struct server_limits {
  std::size_t body_limit = std::size_t{64} * 1024;
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

// The sessions of one io_context thread; used from that thread only.
class session_registry {
public:
  struct entry {
    boost::beast::tcp_stream* stream;
    bool idle;  // between requests: safe to close at shutdown
  };

  std::list<entry>::iterator add(boost::beast::tcp_stream& stream);
  void remove(std::list<entry>::iterator it) { sessions_.erase(it); }
  bool stopping() const noexcept { return stopping_; }
  std::size_t size() const noexcept { return sessions_.size(); }

  // Stop taking new requests: idle connections close now, busy ones after
  // answering the request in hand.
  void begin_shutdown();
  // Deadline passed: close everything.
  void close_all();

private:
  std::list<entry> sessions_;
  bool stopping_ = false;
};

struct session_env {
  request_handler handler;
  session_registry* registry;
  server_limits limits;
  std::atomic<std::size_t>* open_connections;  // shared by all threads
};

boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, session_env& env);

// Sent to a connection over the limit, then closed.
boost::asio::awaitable<void> refuse_session(boost::asio::ip::tcp::socket socket);

}  // namespace bankd::http
