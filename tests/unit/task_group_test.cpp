// util::task_group: cancelling coroutines by type and waiting with a deadline,
// the pieces of bankd's shutdown.

#include "util/task_group.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// Sleeps up to `limit`, like an idle keep-alive read: total cancellation ends it.
net::awaitable<void> sleeper(bool& ended_early,
                             std::chrono::milliseconds limit) {
  co_await net::this_coro::throw_if_cancelled(false);
  co_await net::this_coro::reset_cancellation_state(net::enable_total_cancellation());
  net::steady_timer t(co_await net::this_coro::executor, limit);
  auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
  ended_early = ec == net::error::operation_aborted;
}

// Sleeps up to `limit`, like a request in flight: only terminal cancellation ends it.
net::awaitable<void> busy(bool& ended_early, std::chrono::milliseconds limit) {
  co_await net::this_coro::throw_if_cancelled(false);
  co_await net::this_coro::reset_cancellation_state(net::enable_terminal_cancellation());
  net::steady_timer t(co_await net::this_coro::executor, limit);
  auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
  ended_early = ec == net::error::operation_aborted;
}

bool wait(net::io_context& ioc, bankd::util::task_group& group, std::chrono::milliseconds within) {
  auto done = net::co_spawn(ioc, group.wait(std::chrono::steady_clock::now() + within), net::use_future);
  while (done.wait_for(0s) != std::future_status::ready) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(10ms);
  }
  return done.get();
}

}  // namespace

TEST_CASE("task group: total cancellation ends only the tasks that accept it, terminal ends the rest") {
  net::io_context ioc;
  bankd::util::task_group group(ioc.get_executor());
  bool idle_early = false;
  bool busy_early = false;
  int exits = 0;
  group.spawn(sleeper(idle_early, 10s), [&](std::exception_ptr) { ++exits; });
  group.spawn(busy(busy_early, 10s), [&](std::exception_ptr) { ++exits; });
  ioc.poll();
  CHECK(group.size() == 2);

  group.emit(net::cancellation_type::total);
  CHECK_FALSE(wait(ioc, group, 200ms));  // the busy one ignores total cancellation
  CHECK(idle_early);
  CHECK(group.size() == 1);

  group.emit(net::cancellation_type::terminal);
  CHECK(wait(ioc, group, 2s));
  CHECK(busy_early);
  CHECK(exits == 2);
  CHECK(group.size() == 0);
}

TEST_CASE("task group: waiting for an empty group returns at once, tasks that end by themselves are waited for") {
  net::io_context ioc;
  bankd::util::task_group group(ioc.get_executor());
  CHECK(wait(ioc, group, 1ms));
  bool early = true;
  group.spawn(busy(early, 50ms), [](std::exception_ptr) {});
  CHECK(wait(ioc, group, 5s));
  CHECK_FALSE(early);
}
