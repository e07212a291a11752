#pragma once
// Runs a coroutine to completion on an io_context from a test body. The
// io_context may hold endless background work (pool maintenance), so it is
// driven only until the coroutine finishes.

#include "support/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <stdexcept>

namespace bankd::test {

template <class T>
T run_async(boost::asio::io_context& ioc, boost::asio::awaitable<T> task,
            std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto done = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("test coroutine timed out");
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(10));
  }
  return done.get();
}

// Lets background work run for a while (e.g. reconnects after a failure).
inline void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration) {
  if (ioc.stopped()) ioc.restart();
  ioc.run_for(duration);
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace bankd::test
