#pragma once
// Coroutines started together and awaited together on one single-threaded
// io_context (all bookkeeping happens on that thread, so it needs no lock).
// wait() returns once every task has finished and rethrows the first
// exception any of them threw: an exception here is a bug, not an outcome.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace bankd::loadtest {

class task_group {
 public:
  explicit task_group(boost::asio::any_io_executor executor)
      : executor_(executor), done_(executor) {}
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  void spawn(boost::asio::awaitable<void> task) {
    ++running_;
    boost::asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr e) {
      if (e && !error_) error_ = e;
      if (--running_ == 0) done_.cancel();
    });
  }

  boost::asio::awaitable<void> wait() {
    while (running_ > 0) {
      done_.expires_at(boost::asio::steady_timer::time_point::max());
      co_await done_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

  std::size_t running() const noexcept { return running_; }

 private:
  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer done_;
  std::size_t running_ = 0;
  std::exception_ptr error_;
};

}  // namespace bankd::loadtest
