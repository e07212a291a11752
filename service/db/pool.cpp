#include "db/pool.hpp"

#include "db/pool_core.hpp"
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
#include <list>
#include <unordered_map>

namespace bankd::db {
namespace net = boost::asio;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr statement ping_statement{"bankd.ping", "SELECT 1"};

pool_limits limits_of(const pool_params& p) {
  return {p.min_size, p.max_size, p.health_check_interval, p.idle_timeout,
          p.reconnect_backoff_min, p.reconnect_backoff_max};
}
}  // namespace

namespace detail {

// The Asio side of a pool: owns the connections and the timers, and does what
// pool_core decides.
class pool_impl : public std::enable_shared_from_this<pool_impl> {
public:
  using conn_id = pool_core::conn_id;

  pool_impl(net::any_io_executor ex, pool_params params, net::any_io_executor offload)
      : ex_(std::move(ex)), offload_(std::move(offload)), params_(std::move(params)),
        core_(limits_of(params_)), maintenance_timer_(ex_) {
    params_.min_size = core_.limits().min_size;
    params_.max_size = core_.limits().max_size;
  }

  void start();
  void close();
  net::awaitable<result<lease>> acquire(clock::time_point deadline);
  void give_back(conn_id id, std::unique_ptr<connection> conn) noexcept;

  const pool_params& params() const noexcept { return params_; }
  const pool_stats& stats() const noexcept { return stats_; }

private:
  struct waiter {
    waiter(const net::any_io_executor& ex, clock::time_point deadline) : timer(ex, deadline) {}
    net::steady_timer timer;
    conn_id id = 0;
    std::unique_ptr<connection> conn;
    bool unavailable = false;
  };

  lease make_lease(conn_id id, std::unique_ptr<connection> conn);
  std::unique_ptr<connection> take_idle(conn_id id);
  void deliver(const pool_core::handoff& h, conn_id id, std::unique_ptr<connection> conn);
  void ensure_capacity();
  void update_gauges() noexcept;
  net::awaitable<void> connect_one(std::shared_ptr<pool_impl> self);
  net::awaitable<void> maintain(std::shared_ptr<pool_impl> self);
  net::awaitable<void> ping(lease borrowed);
  net::awaitable<bool> sleep_for(std::chrono::microseconds delay);

  net::any_io_executor ex_;
  net::any_io_executor offload_;
  pool_params params_;
  pool_core core_;
  pool_stats stats_;
  std::unordered_map<conn_id, std::unique_ptr<connection>> idle_;
  std::unordered_map<pool_core::waiter_id, waiter*> waiters_;
  std::list<net::steady_timer*> sleepers_;  // reconnect backoffs, cut short by close()
  conn_id next_conn_ = 1;
  pool_core::waiter_id next_waiter_ = 1;
  bool started_ = false;
  std::string last_connect_error_;
  net::steady_timer maintenance_timer_;
};

void pool_impl::start() {
  if (started_ || core_.closed()) return;
  started_ = true;
  ensure_capacity();
  net::co_spawn(ex_, maintain(shared_from_this()), util::rethrow);
}

void pool_impl::close() {
  const auto closing = core_.close();
  for (const auto w : closing.waiters) waiters_.at(w)->timer.cancel();
  for (const auto id : closing.idle) idle_.erase(id);
  for (auto* timer : sleepers_) timer->cancel();
  maintenance_timer_.cancel();
  update_gauges();
}

lease pool_impl::make_lease(conn_id id, std::unique_ptr<connection> conn) {
  stats_.acquires.fetch_add(1, std::memory_order_relaxed);
  update_gauges();
  return lease(shared_from_this(), id, std::move(conn));
}

std::unique_ptr<connection> pool_impl::take_idle(conn_id id) {
  auto node = idle_.extract(id);
  return std::move(node.mapped());
}

net::awaitable<result<lease>> pool_impl::acquire(clock::time_point deadline) {
  const auto self = shared_from_this();  // the pool outlives this call
  const auto started = clock::now();
  util::scope_exit record_wait{[&] {
    const auto waited = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started);
    stats_.acquire_wait_ns.fetch_add(static_cast<std::uint64_t>(waited.count()),
                                     std::memory_order_relaxed);
  }};
  const auto id = next_waiter_++;
  for (;;) {
    const auto granted = core_.acquire(id);
    if (granted.kind == pool_core::grant_kind::closed)
      co_return error::client(errc::pool_closed, "connection pool is closed");
    if (granted.kind == pool_core::grant_kind::unavailable)
      co_return error::client(errc::unavailable, last_connect_error_);
    if (granted.kind == pool_core::grant_kind::queued) break;
    auto conn = take_idle(granted.conn);
    if (conn->is_usable()) co_return make_lease(granted.conn, std::move(conn));
    give_back(granted.conn, std::move(conn));  // dropped as broken; try the next one
  }

  waiter w(ex_, deadline);
  waiters_.emplace(id, &w);
  util::scope_exit leave{[&] {
    core_.withdraw(id);
    waiters_.erase(id);
    if (w.conn) give_back(w.id, std::move(w.conn));  // served, but we are unwinding
    update_gauges();
  }};
  update_gauges();
  ensure_capacity();

  auto [ec] = co_await w.timer.async_wait(use_tuple);
  if (w.conn) co_return make_lease(w.id, std::move(w.conn));
  if (core_.closed()) co_return error::client(errc::pool_closed, "connection pool is closed");
  if (w.unavailable) co_return error::client(errc::unavailable, last_connect_error_);
  if (!ec) {
    stats_.exhausted.fetch_add(1, std::memory_order_relaxed);
    co_return error::client(errc::pool_exhausted, "no connection became free in time");
  }
  co_return error::client(errc::cancelled, "acquire cancelled");
}

void pool_impl::give_back(conn_id id, std::unique_ptr<connection> conn) noexcept {
  const bool usable = conn->is_usable();
  if (!usable && !core_.closed()) {
    stats_.broken.fetch_add(1, std::memory_order_relaxed);
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.discard"))
      log::warn("db.pool.discard").kv("backend_pid", conn->backend_pid()).kv("suppressed", *held_back);
    maintenance_timer_.cancel();  // check the idle ones now
  }
  deliver(core_.release(id, usable, clock::now()), id, std::move(conn));
  ensure_capacity();
}

void pool_impl::deliver(const pool_core::handoff& h, conn_id id, std::unique_ptr<connection> conn) {
  if (h.dropped) {
    conn.reset();
  } else if (h.served) {
    waiter* w = waiters_.at(*h.served);
    w->id = id;
    w->conn = std::move(conn);
    w->timer.cancel();
  } else {
    idle_.emplace(id, std::move(conn));
  }
  update_gauges();
}

void pool_impl::ensure_capacity() {
  if (!started_) return;
  for (auto n = core_.connects_needed(); n > 0; --n)
    net::co_spawn(ex_, connect_one(shared_from_this()), util::rethrow);
  update_gauges();
}

net::awaitable<bool> pool_impl::sleep_for(std::chrono::microseconds delay) {
  net::steady_timer timer(ex_, delay);
  const auto position = sleepers_.insert(sleepers_.end(), &timer);
  util::scope_exit leave{[&] { sleepers_.erase(position); }};
  co_await timer.async_wait(use_tuple);
  co_return !core_.closed();
}

// `keep_alive` holds the pool for as long as the coroutine runs.
net::awaitable<void> pool_impl::connect_one(std::shared_ptr<pool_impl> /*keep_alive*/) {
  bool counted = true;  // pool_core counts this loop as connecting until it ends
  util::scope_exit done{[&] {
    if (counted) core_.connect_abandoned();
    update_gauges();
  }};
  for (int failures = 0; !core_.closed();) {
    auto conn = co_await connection::connect(params_.connect, offload_,
                                             clock::now() + params_.connect_timeout);
    if (core_.closed()) co_return;
    if (conn) {
      stats_.created.fetch_add(1, std::memory_order_relaxed);
      if (core_.failing()) log::info("db.pool.reconnected").kv("backend_pid", (*conn)->backend_pid());
      counted = false;
      const auto id = next_conn_++;
      deliver(core_.connected(id, clock::now()), id, std::move(*conn));
      co_return;
    }
    stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    const auto failure = core_.connect_failed();
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.connect_failed"))
      log::warn("db.pool.connect_failed").kv("error", conn.error().message).kv("suppressed", *held_back);
    last_connect_error_ = conn.error().message;
    for (const auto w : failure.fail_fast) {
      waiters_.at(w)->unavailable = true;
      waiters_.at(w)->timer.cancel();
    }
    update_gauges();
    if (!co_await sleep_for(util::equal_jitter(core_.reconnect_delay(++failures)))) co_return;
  }
}

net::awaitable<void> pool_impl::maintain(std::shared_ptr<pool_impl> /*keep_alive*/) {
  const auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(100), std::min(params_.health_check_interval, params_.idle_timeout) / 2);
  while (!core_.closed()) {
    maintenance_timer_.expires_after(period);
    co_await maintenance_timer_.async_wait(use_tuple);
    if (core_.closed()) co_return;
    const auto check = core_.check_idle(clock::now());
    for (const auto id : check.close) take_idle(id).reset();
    for (const auto id : check.ping)
      net::co_spawn(ex_, ping(lease(shared_from_this(), id, take_idle(id))), util::rethrow);
    update_gauges();
    ensure_capacity();
  }
}

// The lease gives the connection back, or has it discarded if broken, on exit.
net::awaitable<void> pool_impl::ping(lease borrowed) {
  batch b;
  b.add(ping_statement);
  auto pong = co_await borrowed->execute(b, {}, clock::now() + params_.connect_timeout);
  if (!pong)
    if (const auto held_back = util::log_throttle::shared().admit("db.pool.ping_failed"))
      log::warn("db.pool.ping_failed").kv("error", pong.error().message).kv("suppressed", *held_back);
}

void pool_impl::update_gauges() noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  stats_.idle.store(static_cast<std::int64_t>(core_.idle()), relaxed);
  stats_.in_use.store(static_cast<std::int64_t>(core_.in_use()), relaxed);
  stats_.open.store(static_cast<std::int64_t>(core_.open()), relaxed);
  stats_.waiting.store(static_cast<std::int64_t>(core_.waiting()), relaxed);
  stats_.connecting.store(static_cast<std::int64_t>(core_.connecting()), relaxed);
}

}  // namespace detail

lease::lease(std::shared_ptr<detail::pool_impl> pool, std::uint64_t id,
             std::unique_ptr<connection> conn) noexcept
    : pool_(std::move(pool)), id_(id), conn_(std::move(conn)) {}

lease& lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    id_ = other.id_;
    conn_ = std::move(other.conn_);
  }
  return *this;
}

lease::~lease() { give_back(); }

void lease::give_back() noexcept {
  if (pool_ && conn_) pool_->give_back(id_, std::move(conn_));
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
