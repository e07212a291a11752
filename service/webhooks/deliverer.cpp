#include "webhooks/deliverer.hpp"

#include "util/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace bankd::webhooks {
namespace net = boost::asio;

deliverer::deliverer(net::any_io_executor ex, db::connection_pool& pool, db::connect_params connect,
                     net::any_io_executor offload, delivery_params params, delivery_observer* observer)
    : ex_(ex),
      params_(std::move(params)),
      observer_(observer),
      state_(pool, params_.db_timeout),
      lock_(db::named(std::move(connect), "bankd webhooks"), std::move(offload), params_.lock_key,
            params_.db_timeout),
      timer_(ex) {}

deliverer::~deliverer() { stop_lanes(); }

void deliverer::stop() {
  stopped_ = true;
  timer_.cancel();
  stop_lanes();
}

void deliverer::stop_lanes() {
  for (auto& [id, l] : lanes_) l->stop();
}

void deliverer::set_leading(bool leading) {
  if (leading == leading_) return;
  leading_ = leading;
  if (leading) log::info("webhooks.leading").kv("backend_pid", lock_.conn()->backend_pid());
  if (observer_) observer_->on_leading(leading);
}

void deliverer::start_lane(std::int64_t endpoint) {
  auto l = std::make_shared<lane>(endpoint, ex_, state_, params_, observer_);
  lanes_[endpoint] = l;
  net::co_spawn(ex_, l->run(), [this, endpoint, l](const std::exception_ptr& e) {
    if (auto it = lanes_.find(endpoint); it != lanes_.end() && it->second == l) lanes_.erase(it);
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("webhooks.lane_failed").kv("endpoint", endpoint).kv("what", ex.what());
    }
  });
}

net::awaitable<void> deliverer::refresh() {
  auto all = co_await state_.endpoints();
  if (!all) co_return;  // the pool reports database trouble; next time
  std::size_t enabled = 0;
  for (const auto& e : *all) {
    if (e.status != "enabled") continue;
    ++enabled;
    if (!lanes_.contains(e.id) && !stopped_) start_lane(e.id);
  }
  if (observer_) observer_->on_endpoints(enabled, all->size() - enabled);
  if (auto lag = co_await state_.lag_seconds(); lag && observer_) observer_->on_lag(*lag);
}

net::awaitable<void> deliverer::run() {
  while (!stopped_) {
    if (!lock_.held()) {
      const bool acquired = co_await lock_.try_acquire();
      set_leading(acquired);
    } else if (const bool still = co_await lock_.confirm(); !still) {
      log::warn("webhooks.stopped_leading").kv("reason", "the lock's connection was lost");
      set_leading(false);
      stop_lanes();
    }
    if (lock_.held() && !stopped_) co_await refresh();
    if (stopped_) break;
    timer_.expires_after(lock_.held() ? params_.refresh : params_.standby);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
  }
  stop_lanes();
  // The lanes end at their next step; give them a moment before the lock goes.
  for (int i = 0; i < 200 && !lanes_.empty(); ++i) {
    net::steady_timer wait(ex_, std::chrono::milliseconds(10));
    co_await wait.async_wait(net::as_tuple(net::use_awaitable));
  }
  lock_.release();
  set_leading(false);
}

}  // namespace bankd::webhooks
