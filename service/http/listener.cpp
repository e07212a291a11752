#include "http/listener.hpp"

#include "util/log.hpp"
#include "util/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bankd::http {
namespace net = boost::asio;
using net::ip::tcp;

listener::listener(net::any_io_executor ex, const tcp::endpoint& endpoint,
                   std::vector<worker_slot> workers)
    : acceptor_(ex), workers_(std::move(workers)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

void listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

net::awaitable<void> listener::run() {
  constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
  while (acceptor_.is_open()) {
    worker_slot& worker = workers_[next_];
    next_ = (next_ + 1) % workers_.size();
    auto [ec, socket] = co_await acceptor_.async_accept(worker.executor, use_tuple);
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("http.accept_failed").kv("error", ec.message());
      net::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    session_env& env = *worker.env;
    const auto open = env.open_connections->fetch_add(1, std::memory_order_relaxed);
    bool refuse = open >= env.limits.max_connections;
    if (!refuse && env.clients != nullptr) {
      const auto peer = socket.remote_endpoint(ec);
      refuse = !ec && !env.clients->try_add(peer.address(), env.limits.max_connections_per_client);
      if (ec) refuse = true;  // the client already went away
    }
    if (refuse) env.open_connections->fetch_sub(1, std::memory_order_relaxed);
    // The session joins its worker's task group on that worker's thread.
    net::dispatch(worker.executor, [&env, refuse, s = std::move(socket)]() mutable {
      if (refuse)
        env.sessions->spawn(refuse_session(std::move(s)), util::log_failure{"http.refuse"});
      else
        env.sessions->spawn(run_session(std::move(s), env), util::log_failure{"http.session"});
    });
  }
}

}  // namespace bankd::http
