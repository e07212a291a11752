#pragma once
// Accepts TCP connections and hands each to one of the io_context threads in
// turn, where its session runs for its whole life. Accepting on one socket
// and distributing round-robin keeps the threads evenly loaded even with few
// long-lived keep-alive clients.

#include "http/session.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <vector>

namespace bankd::http {

// One per io_context thread; `env` must outlive the listener's sessions.
struct worker_slot {
  boost::asio::any_io_executor executor;
  session_env* env;
};

class listener {
public:
  // Binds and listens; throws on failure (start-up error).
  listener(boost::asio::any_io_executor ex, const boost::asio::ip::tcp::endpoint& endpoint,
           std::vector<worker_slot> workers);

  boost::asio::awaitable<void> run();
  void close();  // stops accepting; call on the listener's executor
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<worker_slot> workers_;
  std::size_t next_ = 0;
};

}  // namespace bankd::http
