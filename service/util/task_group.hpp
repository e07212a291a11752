#pragma once
// A set of coroutines on one executor that can be cancelled together and
// waited for with a deadline: what shutdown needs.
//
// spawn() starts a coroutine with its own cancellation signal; emit() sends
// a cancellation of the given type to every coroutine still running, which
// each lets through or not according to its cancellation filter; wait()
// completes once none is left, or at the deadline.
//
// Thread model: spawn(), emit() and wait() are called on the group's
// executor only (one io_context thread). The group must outlive its tasks:
// wait() for them before destroying it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <list>
#include <memory>
#include <utility>

namespace bankd::util {

class task_group {
public:
  explicit task_group(boost::asio::any_io_executor ex) : ex_(ex), idle_(ex) {}
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // `on_exit` is called with the coroutine's exception, or null.
  template <class OnExit>
  void spawn(boost::asio::awaitable<void> task, OnExit on_exit) {
    // The task's completion handler shares its signal, so the signal lives
    // as long as the operations that hold its slot, even if the group goes
    // first (an io_context destroyed with work left).
    auto signal = std::make_shared<boost::asio::cancellation_signal>();
    const auto it = signals_.insert(signals_.end(), signal);
    boost::asio::co_spawn(
        ex_, std::move(task),
        boost::asio::bind_cancellation_slot(
            signal->slot(),
            [this, it, signal, alive = std::weak_ptr<int>(alive_), on_exit = std::move(on_exit)](
                std::exception_ptr e) mutable {
              if (!alive.expired()) {
                signals_.erase(it);
                if (signals_.empty()) idle_.cancel();
              }
              on_exit(e);
            }));
  }

  void emit(boost::asio::cancellation_type type) {
    // A copy: emitting may complete a task, which erases its entry.
    const auto signals = signals_;
    for (const auto& signal : signals) signal->emit(type);
  }

  std::size_t size() const noexcept { return signals_.size(); }

  // True when every task ended before `deadline`.
  boost::asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline) {
    while (!signals_.empty()) {
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      idle_.expires_at(deadline);
      co_await idle_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return true;
  }

private:
  boost::asio::any_io_executor ex_;
  std::list<std::shared_ptr<boost::asio::cancellation_signal>> signals_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // lets late completions see the group gone
  boost::asio::steady_timer idle_;  // cancelled when the last task ends
};

}  // namespace bankd::util
