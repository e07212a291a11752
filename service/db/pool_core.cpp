#include "db/pool_core.hpp"

#include <algorithm>
#include <utility>

namespace bankd::db {

pool_core::pool_core(pool_limits limits) : limits_(limits) {
  limits_.min_size = std::max<std::size_t>(limits_.min_size, 1);
  limits_.max_size = std::max(limits_.max_size, limits_.min_size);
}

pool_core::grant pool_core::acquire(waiter_id w) {
  if (closed_) return {grant_kind::closed};
  if (waiters_.empty() && !idle_.empty()) {
    const conn_id c = idle_.back().conn;
    idle_.pop_back();
    ++in_use_;
    return {grant_kind::connection, c};
  }
  if (open() == 0 && failing_) return {grant_kind::unavailable};
  waiters_.push_back(w);
  return {grant_kind::queued};
}

void pool_core::withdraw(waiter_id w) {
  const auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it != waiters_.end()) waiters_.erase(it);
}

pool_core::handoff pool_core::release(conn_id c, bool usable, time_point now) {
  --in_use_;
  if (closed_) return {std::nullopt, true};
  if (!usable) {
    check_all_ = true;
    return {std::nullopt, true};
  }
  return hand_over(c, now);
}

pool_core::handoff pool_core::hand_over(conn_id c, time_point now) {
  if (!waiters_.empty()) {
    const waiter_id w = waiters_.front();
    waiters_.pop_front();
    ++in_use_;
    return {w, false};
  }
  idle_.push_back({c, now});
  return {};
}

std::size_t pool_core::connects_needed() {
  if (closed_) return 0;
  std::size_t target = limits_.min_size;
  if (!waiters_.empty())
    target = std::clamp(open() + waiters_.size(), limits_.min_size, limits_.max_size);
  const std::size_t have = open() + connecting_;
  const std::size_t needed = target > have ? target - have : 0;
  connecting_ += needed;
  return needed;
}

pool_core::handoff pool_core::connected(conn_id c, time_point now) {
  --connecting_;
  failing_ = false;
  if (closed_) return {std::nullopt, true};
  return hand_over(c, now);
}

pool_core::connect_failure pool_core::connect_failed() {
  connect_failure out;
  out.first = !failing_;
  failing_ = true;
  if (open() == 0) {
    out.fail_fast.assign(waiters_.begin(), waiters_.end());
    waiters_.clear();
  }
  return out;
}

void pool_core::connect_abandoned() { --connecting_; }

std::chrono::microseconds pool_core::reconnect_delay(int failures) const {
  std::chrono::microseconds delay = limits_.reconnect_backoff_min;
  const std::chrono::microseconds cap = limits_.reconnect_backoff_max;
  for (int i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

pool_core::idle_check pool_core::check_idle(time_point now) {
  idle_check out;
  const bool all = std::exchange(check_all_, false);
  std::deque<idle_entry> keep;
  std::size_t open_now = open();
  for (const auto& entry : idle_) {
    const auto idle_for = now - entry.since;
    if (open_now > limits_.min_size && idle_for > limits_.idle_timeout) {
      --open_now;
      out.close.push_back(entry.conn);
    } else if (all || idle_for > limits_.health_check_interval) {
      out.ping.push_back(entry.conn);
    } else {
      keep.push_back(entry);
    }
  }
  idle_ = std::move(keep);
  in_use_ += out.ping.size();
  return out;
}

pool_core::closing pool_core::close() {
  closing out;
  if (closed_) return out;
  closed_ = true;
  out.waiters.assign(waiters_.begin(), waiters_.end());
  waiters_.clear();
  for (const auto& entry : idle_) out.idle.push_back(entry.conn);
  idle_.clear();
  return out;
}

}  // namespace bankd::db
