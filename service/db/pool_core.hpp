#pragma once
// The decisions of a connection pool, as plain state with no I/O: who gets a
// connection, when to open more, which idle ones to ping or close, what to do
// with one that comes back broken. connection_pool (pool.cpp) wraps it with
// Asio: timers, connect loops, pings, leases. Unit tests drive it directly
// with made-up connection and waiter ids and a made-up clock.
//
// Not thread-safe; the pool that owns it uses it from its own thread only.
//
// Rules:
//  - A waiter is served from the idle list only when nobody queued before it;
//    otherwise it queues, and the queue is served first come, first served.
//  - The pool holds min_size connections, and grows towards max_size while
//    coroutines wait (one more connection per waiter).
//  - A connection that comes back unusable is dropped, and its pool asks for
//    a health check of every idle connection: one broken connection often
//    means all of them are (a server restart).
//  - While no connection is open and the last connect failed, acquiring fails
//    at once ("unavailable") instead of waiting for the deadline, and the
//    waiters already queued are failed too.
//  - Idle connections are pinged after health_check_interval; those above
//    min_size are closed after idle_timeout.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace bankd::db {

struct pool_limits {
  std::size_t min_size = 10;
  std::size_t max_size = 20;
  std::chrono::milliseconds health_check_interval{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{2000};
};

class pool_core {
public:
  using conn_id = std::uint64_t;
  using waiter_id = std::uint64_t;
  using time_point = std::chrono::steady_clock::time_point;

  explicit pool_core(pool_limits limits);

  enum class grant_kind { connection, queued, unavailable, closed };
  struct grant {
    grant_kind kind;
    conn_id conn = 0;  // kind == connection: now in use by the caller
  };
  // A coroutine asks for a connection. The caller checks that a granted idle
  // connection is still usable and, if not, releases it as unusable and asks again.
  grant acquire(waiter_id w);
  // The waiter stops waiting (deadline, cancellation). No effect when it was
  // already served or failed.
  void withdraw(waiter_id w);

  struct handoff {
    std::optional<waiter_id> served;  // this waiter now holds the connection
    bool dropped = false;             // the connection is to be closed
  };
  // A connection in use comes back.
  handoff release(conn_id c, bool usable, time_point now);

  // How many connect attempts to start now; counted as connecting from here on.
  std::size_t connects_needed();
  // A connect attempt succeeded: the new connection is handed out or idles.
  handoff connected(conn_id c, time_point now);
  struct connect_failure {
    std::vector<waiter_id> fail_fast;  // waiters to fail now with "unavailable"
    bool first = false;                // the first failure after a success: worth a log line
  };
  // A connect attempt failed; its loop tries again after reconnect_delay().
  connect_failure connect_failed();
  // A connect loop ended without a connection (the pool closed).
  void connect_abandoned();
  // The pause before retry number `failures` (1-based) of one connect loop,
  // doubling from reconnect_backoff_min up to reconnect_backoff_max; the
  // caller adds jitter.
  std::chrono::microseconds reconnect_delay(int failures) const;

  struct idle_check {
    std::vector<conn_id> ping;   // now in use by the pinger; come back through release()
    std::vector<conn_id> close;  // surplus above min_size, idle too long
  };
  // Periodic maintenance; also answers a health check requested by a broken connection.
  idle_check check_idle(time_point now);
  // True once a broken connection has asked for every idle one to be checked.
  bool check_requested() const noexcept { return check_all_; }

  struct closing {
    std::vector<waiter_id> waiters;  // to fail with "closed"
    std::vector<conn_id> idle;       // to close; connections in use close when released
  };
  closing close();

  std::size_t idle() const noexcept { return idle_.size(); }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t open() const noexcept { return idle_.size() + in_use_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  std::size_t connecting() const noexcept { return connecting_; }
  bool failing() const noexcept { return failing_; }
  bool closed() const noexcept { return closed_; }
  const pool_limits& limits() const noexcept { return limits_; }

private:
  struct idle_entry {
    conn_id conn;
    time_point since;
  };
  handoff hand_over(conn_id c, time_point now);

  pool_limits limits_;
  std::deque<idle_entry> idle_;     // most recently used at the back
  std::deque<waiter_id> waiters_;   // first come, first served
  std::size_t in_use_ = 0;
  std::size_t connecting_ = 0;
  bool failing_ = false;  // the latest connect attempt failed
  bool check_all_ = false;
  bool closed_ = false;
};

}  // namespace bankd::db
