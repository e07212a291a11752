#pragma once
// A pool of pre-opened connections, borrowed per request through RAII leases.
// The decisions (who is served, when to connect, ping or close) are
// pool_core's; this class runs them with Asio.
//
// Thread model: a pool belongs to one io_context thread; acquire(), leases and
// close() are used from that thread only. bankd runs one io_context per core,
// each with its own pool, so no connection ever crosses threads. stats() is
// the exception: its counters are atomics, readable from any thread.
//
// Behaviour:
//  - start() opens min_size connections in the background; more are opened, up
//    to max_size, while coroutines are waiting.
//  - Waiters are served first come, first served. A waiter whose deadline
//    passes gets errc::pool_exhausted; while the database is unreachable and no
//    connection is open, acquire fails at once with errc::unavailable.
//  - A connection that comes back unusable (broken socket, timeout, cancelled
//    operation, open transaction) is discarded and replaced with capped
//    exponential backoff. A broken one also triggers a health check of the idle
//    ones, so a server restart is noticed before the next request meets it.
//  - Idle connections are pinged after health_check_interval of idleness;
//    connections above min_size close after idle_timeout.

#include "db/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace bankd::db {

struct pool_params {
  connect_params connect;
  std::size_t min_size = 10;
  std::size_t max_size = 20;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds query_timeout{5000};  // default deadline of one pipeline
  std::chrono::milliseconds health_check_interval{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds reconnect_backoff_min{50};
  // Low enough that after a failover the new primary is found within about
  // half a second of taking writes; a refused connect costs the server little.
  std::chrono::milliseconds reconnect_backoff_max{500};
};

// Counters for metrics; every field readable from any thread.
struct pool_stats {
  std::atomic<std::int64_t> open{0};        // idle + in use
  std::atomic<std::int64_t> idle{0};
  std::atomic<std::int64_t> in_use{0};
  std::atomic<std::int64_t> waiting{0};
  std::atomic<std::int64_t> connecting{0};
  std::atomic<std::uint64_t> created{0};    // successful connects, ever
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> broken{0};     // discarded because unusable
  std::atomic<std::uint64_t> acquires{0};
  std::atomic<std::uint64_t> exhausted{0};  // acquire deadline passed
  std::atomic<std::uint64_t> acquire_wait_ns{0};
};

namespace detail {
class pool_impl;
}

// Exclusive use of one connection; gives it back to its pool when destroyed,
// on every path: success, error, exception, cancellation.
class lease {
public:
  lease() = default;
  lease(lease&&) noexcept = default;
  lease& operator=(lease&& other) noexcept;
  ~lease();

  connection& operator*() const noexcept { return *conn_; }
  connection* operator->() const noexcept { return conn_.get(); }
  explicit operator bool() const noexcept { return conn_ != nullptr; }
  // The pool's default deadline for one pipeline on this connection.
  clock::time_point query_deadline() const noexcept;

private:
  friend class detail::pool_impl;
  lease(std::shared_ptr<detail::pool_impl> pool, std::uint64_t id,
        std::unique_ptr<connection> conn) noexcept;
  void give_back() noexcept;

  std::shared_ptr<detail::pool_impl> pool_;
  std::uint64_t id_ = 0;  // the pool's name for the connection
  std::unique_ptr<connection> conn_;
};

class connection_pool {
public:
  // `offload` runs the possibly blocking part of connecting (name resolution).
  connection_pool(boost::asio::any_io_executor ex, pool_params params,
                  boost::asio::any_io_executor offload = {});
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool();

  void start();
  // Fails waiters, closes idle connections and stops background work. Leased
  // connections are closed when they come back.
  void close();

  boost::asio::awaitable<result<lease>> acquire();
  boost::asio::awaitable<result<lease>> acquire(clock::time_point deadline);

  const pool_params& params() const noexcept;
  const pool_stats& stats() const noexcept;

private:
  std::shared_ptr<detail::pool_impl> impl_;
};

}  // namespace bankd::db
