#include "db/pool.hpp"

#include "util/backoff.hpp"
#include "util/log.hpp"
#include "util/log_throttle.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <list>
#include <vector>

namespace bankd::db {
namespace net = boost::asio;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr statement ping_statement{"bankd.ping", "SELECT 1"};
}  // namespace

namespace detail {

class pool_impl : public std::enable_shared_from_this<pool_impl> {
public:
  pool_impl(net::any_io_executor ex, pool_params params, net::any_io_executor offload)
      : ex_(std::move(ex)), offload_(std::move(offload)), params_(std::move(params)),
        maintenance_timer_(ex_) {
    params_.min_size = std::max<std::size_t>(params_.min_size, 1);
    params_.max_size = std::max(params_.max_size, params_.min_size);
  }

  void start();
  void close();
  net::awaitable<result<lease>> acquire(clock::time_point deadline);
  void give_back(std::unique_ptr<connection> conn) noexcept;

  const pool_params& params() const noexcept { return params_; }
  const pool_stats& stats() const noexcept { return stats_; }

private:
  struct waiter {
    waiter(const net::any_io_executor& ex, clock::time_point deadline) : timer(ex, deadline) {}
    net::steady_timer timer;
    std::unique_ptr<connection> conn;
    bool queued = true;
    bool unavailable = false;
  };

  std::size_t open_count() const noexcept { return idle_.size() + in_use_; }
  std::unique_ptr<connection> take_idle();
  void hand_over(std::unique_ptr<connection> conn);
  void discard(std::unique_ptr<connection> conn, bool broken);
  void ensure_capacity();
  void fail_waiters_fast();
  void check_idle(bool all);
  void update_gauges() noexcept;
  net::awaitable<void> connect_one(std::shared_ptr<pool_impl> self);
  net::awaitable<void> maintain(std::shared_ptr<pool_impl> self);
  net::awaitable<void> ping(std::shared_ptr<pool_impl> self, std::unique_ptr<connection> conn);
  net::awaitable<bool> sleep_for(std::chrono::microseconds delay);

  net::any_io_executor ex_;
  net::any_io_executor offload_;
  pool_params params_;
  pool_stats stats_;
  std::deque<std::unique_ptr<connection>> idle_;  // most recently used at the back
  std::list<waiter*> waiters_;                     // first come, first served
  std::list<net::steady_timer*> sleepers_;         // reconnect backoffs, cut short by close()
  std::size_t in_use_ = 0;
  std::size_t connecting_ = 0;
  bool started_ = false;
  bool closed_ = false;
  bool connect_failing_ = false;  // the latest connect attempt failed
  bool check_all_requested_ = false;
  std::string last_connect_error_;
  net::steady_timer maintenance_timer_;
};

void pool_impl::start() {
  if (started_ || closed_) return;
  started_ = true;
  ensure_capacity();
  net::co_spawn(ex_, maintain(shared_from_this()), util::rethrow);
}

void pool_impl::close() {
  if (closed_) return;
  closed_ = true;
  for (waiter* w : waiters_) {
    w->queued = false;
    w->timer.cancel();
  }
  waiters_.clear();
  idle_.clear();
  for (auto* timer : sleepers_) timer->cancel();
  maintenance_timer_.cancel();
  update_gauges();
}

net::awaitable<result<lease>> pool_impl::acquire(clock::time_point deadline) {
  const auto self = shared_from_this();  // the pool outlives this call
  const auto started = clock::now();
  auto record_wait = [&] {
    stats_.acquires.fetch_add(1, std::memory_order_relaxed);
    const auto waited = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started);
    stats_.acquire_wait_ns.fetch_add(static_cast<std::uint64_t>(waited.count()),
                                     std::memory_order_relaxed);
  };
  if (closed_) co_return error::client(errc::pool_closed, "connection pool is closed");
  if (waiters_.empty()) {
    if (auto conn = take_idle()) {
      record_wait();
      co_return lease(self, std::move(conn));
    }
  }
  if (open_count() == 0 && connect_failing_)
    co_return error::client(errc::unavailable, last_connect_error_);

  waiter w(ex_, deadline);
  const auto position = waiters_.insert(waiters_.end(), &w);
  util::scope_exit leave{[&] {
    if (w.queued) waiters_.erase(position);
    if (w.conn) give_back(std::move(w.conn));  // served, but we are unwinding
    update_gauges();
  }};
  update_gauges();
  ensure_capacity();

  auto [ec] = co_await w.timer.async_wait(use_tuple);
  if (w.conn) {
    record_wait();
    co_return lease(self, std::move(w.conn));
  }
  if (closed_) co_return error::client(errc::pool_closed, "connection pool is closed");
  if (w.unavailable) co_return error::client(errc::unavailable, last_connect_error_);
  if (!ec) {
    stats_.exhausted.fetch_add(1, std::memory_order_relaxed);
    co_return error::client(errc::pool_exhausted, "no connection became free in time");
  }
  co_return error::client(errc::cancelled, "acquire cancelled");
}

std::unique_ptr<connection> pool_impl::take_idle() {
  while (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->is_usable()) {
      ++in_use_;
      update_gauges();
      return conn;
    }
    discard(std::move(conn), true);
  }
  return nullptr;
}

void pool_impl::give_back(std::unique_ptr<connection> conn) noexcept {
  --in_use_;
  if (closed_) {
    conn.reset();
    update_gauges();
    return;
  }
  if (!conn->is_usable()) {
    discard(std::move(conn), true);
    return;
  }
  hand_over(std::move(conn));
}

void pool_impl::hand_over(std::unique_ptr<connection> conn) {
  if (!waiters_.empty()) {
    waiter* w = waiters_.front();
    waiters_.pop_front();
    w->queued = false;
    w->conn = std::move(conn);
    ++in_use_;
    w->timer.cancel();
  } else {
    idle_.push_back(std::move(conn));
  }
  update_gauges();
}

void pool_impl::discard(std::unique_ptr<connection> conn, bool broken) {
  if (broken) {
    stats_.broken.fetch_add(1, std::memory_order_relaxed);
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.discard"))
      log::warn("db.pool.discard").kv("backend_pid", conn->backend_pid()).kv("suppressed", *held_back);
    // One broken connection often means all of them are (server restart).
    check_all_requested_ = true;
    maintenance_timer_.cancel();
  }
  conn.reset();
  update_gauges();
  ensure_capacity();
}

void pool_impl::ensure_capacity() {
  if (!started_ || closed_) return;
  std::size_t target = params_.min_size;
  if (!waiters_.empty())
    target = std::clamp(open_count() + waiters_.size(), params_.min_size, params_.max_size);
  while (open_count() + connecting_ < target) {
    ++connecting_;
    net::co_spawn(ex_, connect_one(shared_from_this()), util::rethrow);
  }
  update_gauges();
}

void pool_impl::fail_waiters_fast() {
  for (waiter* w : waiters_) {
    w->queued = false;
    w->unavailable = true;
    w->timer.cancel();
  }
  waiters_.clear();
  update_gauges();
}

net::awaitable<bool> pool_impl::sleep_for(std::chrono::microseconds delay) {
  net::steady_timer timer(ex_, delay);
  const auto position = sleepers_.insert(sleepers_.end(), &timer);
  util::scope_exit leave{[&] { sleepers_.erase(position); }};
  co_await timer.async_wait(use_tuple);
  co_return !closed_;
}

// `keep_alive` holds the pool for as long as the coroutine runs.
net::awaitable<void> pool_impl::connect_one(std::shared_ptr<pool_impl> /*keep_alive*/) {
  util::scope_exit done{[this] {
    --connecting_;
    update_gauges();
  }};
  std::chrono::microseconds backoff = params_.reconnect_backoff_min;
  while (!closed_) {
    auto conn = co_await connection::connect(params_.connect, offload_,
                                             clock::now() + params_.connect_timeout);
    if (closed_) co_return;
    if (conn) {
      stats_.created.fetch_add(1, std::memory_order_relaxed);
      if (connect_failing_) log::info("db.pool.reconnected").kv("backend_pid", (*conn)->backend_pid());
      connect_failing_ = false;
      hand_over(std::move(*conn));
      co_return;
    }
    stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.connect_failed"))
      log::warn("db.pool.connect_failed").kv("error", conn.error().message).kv("suppressed", *held_back);
    connect_failing_ = true;
    last_connect_error_ = conn.error().message;
    if (open_count() == 0) fail_waiters_fast();
    if (!co_await sleep_for(util::equal_jitter(backoff))) co_return;
    backoff = std::min<std::chrono::microseconds>(backoff * 2, params_.reconnect_backoff_max);
  }
}

net::awaitable<void> pool_impl::maintain(std::shared_ptr<pool_impl> /*keep_alive*/) {
  const auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(100), std::min(params_.health_check_interval, params_.idle_timeout) / 2);
  while (!closed_) {
    maintenance_timer_.expires_after(period);
    co_await maintenance_timer_.async_wait(use_tuple);
    if (closed_) co_return;
    check_idle(std::exchange(check_all_requested_, false));
    ensure_capacity();
  }
}

void pool_impl::check_idle(bool all) {
  const auto now = clock::now();
  std::deque<std::unique_ptr<connection>> keep;
  std::vector<std::unique_ptr<connection>> to_ping;
  std::vector<std::unique_ptr<connection>> broken;
  std::vector<std::unique_ptr<connection>> surplus;
  std::size_t open = open_count();
  for (auto& conn : idle_) {
    const auto idle_for = now - conn->last_used();
    if (!conn->is_usable()) {
      --open;
      broken.push_back(std::move(conn));
    } else if (open > params_.min_size && idle_for > params_.idle_timeout) {
      --open;  // shrink back towards min_size
      surplus.push_back(std::move(conn));
    } else if (all || idle_for > params_.health_check_interval) {
      to_ping.push_back(std::move(conn));
    } else {
      keep.push_back(std::move(conn));
    }
  }
  idle_ = std::move(keep);
  in_use_ += to_ping.size();
  for (auto& conn : to_ping)
    net::co_spawn(ex_, ping(shared_from_this(), std::move(conn)), util::rethrow);
  for (auto& conn : broken) discard(std::move(conn), true);
  for (auto& conn : surplus) discard(std::move(conn), false);
  update_gauges();
}

net::awaitable<void> pool_impl::ping(std::shared_ptr<pool_impl> self, std::unique_ptr<connection> conn) {
  lease borrowed(self, std::move(conn));  // returned, or discarded if broken, on exit
  batch b;
  b.add(ping_statement);
  auto pong = co_await borrowed->execute(b, {}, clock::now() + params_.connect_timeout);
  if (!pong)
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.ping_failed"))
      log::warn("db.pool.ping_failed").kv("error", pong.error().message).kv("suppressed", *held_back);
}

void pool_impl::update_gauges() noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  stats_.idle.store(static_cast<std::int64_t>(idle_.size()), relaxed);
  stats_.in_use.store(static_cast<std::int64_t>(in_use_), relaxed);
  stats_.open.store(static_cast<std::int64_t>(open_count()), relaxed);
  stats_.waiting.store(static_cast<std::int64_t>(waiters_.size()), relaxed);
  stats_.connecting.store(static_cast<std::int64_t>(connecting_), relaxed);
}

}  // namespace detail

lease::lease(std::shared_ptr<detail::pool_impl> pool, std::unique_ptr<connection> conn) noexcept
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

lease& lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

lease::~lease() { give_back(); }

void lease::give_back() noexcept {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
  pool_.reset();
}

clock::time_point lease::query_deadline() const noexcept {
  return clock::now() + (pool_ ? pool_->params().query_timeout : std::chrono::milliseconds(5000));
}

connection_pool::connection_pool(net::any_io_executor ex, pool_params params,
                                 net::any_io_executor offload)
    : impl_(std::make_shared<detail::pool_impl>(std::move(ex), std::move(params),
                                                std::move(offload))) {}

connection_pool::~connection_pool() { impl_->close(); }

void connection_pool::start() { impl_->start(); }
void connection_pool::close() { impl_->close(); }

net::awaitable<result<lease>> connection_pool::acquire() {
  return impl_->acquire(clock::now() + impl_->params().acquire_timeout);
}

net::awaitable<result<lease>> connection_pool::acquire(clock::time_point deadline) {
  return impl_->acquire(deadline);
}

const pool_params& connection_pool::params() const noexcept { return impl_->params(); }
const pool_stats& connection_pool::stats() const noexcept { return impl_->stats(); }

}  // namespace bankd::db
