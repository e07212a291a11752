#include "loadtest/probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace bankd::loadtest {
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto ready_poll = 50ms;
constexpr auto ready_timeout = 1s;

}  // namespace

exec_result probe(const endpoint& where, const std::string& target, const std::string& bearer,
                  std::chrono::milliseconds timeout) {
  net::io_context ioc(1);
  http_connection conn(ioc.get_executor(), where);
  // Named, not a temporary: the coroutine keeps a reference until ioc.run() ends.
  const request_parts parts{{}, bearer, {}};
  auto done = net::co_spawn(ioc, conn.exec(boost::beast::http::verb::get, target, parts, timeout),
                            net::use_future);
  ioc.run();
  return done.get();
}

double seconds_until_ready(const endpoint& where, std::chrono::milliseconds limit) {
  using clock = std::chrono::steady_clock;
  const auto since = clock::now();
  while (clock::now() - since < limit) {
    if (auto ready = probe(where, "/readyz", {}, ready_timeout); ready && ready->status == 200)
      return std::chrono::duration<double>(clock::now() - since).count();
    std::this_thread::sleep_for(ready_poll);
  }
  return -1;
}

}  // namespace bankd::loadtest
