// The pool's decisions, driven with made-up connection and waiter ids and a
// made-up clock: no sockets, no PostgreSQL.

#include "db/pool_core.hpp"

#include <catch2/catch.hpp>

using namespace bankd::db;
using namespace std::chrono_literals;
using kind = pool_core::grant_kind;

namespace {

const pool_core::time_point t0{};

pool_limits limits(std::size_t min, std::size_t max) {
  pool_limits l;
  l.min_size = min;
  l.max_size = max;
  l.health_check_interval = 10s;
  l.idle_timeout = 60s;
  l.reconnect_backoff_min = 50ms;
  l.reconnect_backoff_max = 2s;
  return l;
}

// A pool with `n` connections open and idle, ids 1..n.
pool_core opened(std::size_t min, std::size_t max, std::size_t n) {
  pool_core core(limits(min, max));
  REQUIRE(core.connects_needed() == min);
  for (std::size_t i = 1; i <= n; ++i) core.connected(i, t0);
  return core;
}

}  // namespace

TEST_CASE("pool core: opens min_size connections at start and no more while nobody waits") {
  pool_core core(limits(3, 8));
  CHECK(core.connects_needed() == 3);
  CHECK(core.connecting() == 3);
  CHECK(core.connects_needed() == 0);
  core.connected(1, t0);
  CHECK(core.idle() == 1);
  CHECK(core.connecting() == 2);
}

TEST_CASE("pool core: idle connections are handed out most recently used first") {
  auto core = opened(2, 2, 2);
  auto a = core.acquire(100);
  REQUIRE(a.kind == kind::connection);
  CHECK(a.conn == 2);
  CHECK(core.in_use() == 1);
  CHECK(core.idle() == 1);
}

TEST_CASE("pool core: waiters queue first come, first served, and a returned connection goes to the first") {
  auto core = opened(1, 1, 1);
  REQUIRE(core.acquire(100).kind == kind::connection);
  CHECK(core.acquire(101).kind == kind::queued);
  CHECK(core.acquire(102).kind == kind::queued);
  CHECK(core.waiting() == 2);
  auto back = core.release(1, true, t0 + 1s);
  REQUIRE(back.served);
  CHECK(*back.served == 101);
  CHECK_FALSE(back.dropped);
  CHECK(core.in_use() == 1);
  CHECK(core.waiting() == 1);
}

TEST_CASE("pool core: nobody overtakes the queue through the idle list") {
  auto core = opened(1, 1, 1);
  REQUIRE(core.acquire(100).kind == kind::connection);
  REQUIRE(core.acquire(101).kind == kind::queued);
  core.withdraw(101);  // deadline passed
  CHECK(core.waiting() == 0);
  auto back = core.release(1, true, t0);
  CHECK_FALSE(back.served);
  CHECK(core.idle() == 1);
  // A withdrawn waiter that is withdrawn again, or was served, changes nothing.
  core.withdraw(101);
  CHECK(core.acquire(102).kind == kind::connection);
}

TEST_CASE("pool core: grows by one connection per waiter, up to max_size") {
  auto core = opened(1, 3, 1);
  REQUIRE(core.acquire(100).kind == kind::connection);
  for (pool_core::waiter_id w = 101; w <= 105; ++w) REQUIRE(core.acquire(w).kind == kind::queued);
  CHECK(core.connects_needed() == 2);  // 1 open + 2 = max
  CHECK(core.connects_needed() == 0);
  auto fresh = core.connected(2, t0);
  REQUIRE(fresh.served);
  CHECK(*fresh.served == 101);
}

TEST_CASE("pool core: a broken connection is dropped and asks for every idle one to be checked") {
  auto core = opened(3, 3, 3);
  REQUIRE(core.acquire(100).kind == kind::connection);
  auto back = core.release(3, false, t0);
  CHECK(back.dropped);
  CHECK_FALSE(back.served);
  CHECK(core.open() == 2);
  CHECK(core.check_requested());
  CHECK(core.connects_needed() == 1);  // replaced
  auto check = core.check_idle(t0 + 1ms);  // long before the health interval
  CHECK(check.ping.size() == 2);
  CHECK(check.close.empty());
  CHECK(core.in_use() == 2);  // the pinger holds them
  CHECK_FALSE(core.check_requested());
}

TEST_CASE("pool core: idle connections are pinged after the health interval, surplus closed after the idle timeout") {
  auto core = opened(1, 3, 1);
  REQUIRE(core.acquire(100).kind == kind::connection);
  REQUIRE(core.acquire(101).kind == kind::queued);
  REQUIRE(core.acquire(102).kind == kind::queued);
  REQUIRE(core.connects_needed() == 2);
  core.connected(2, t0);
  core.connected(3, t0);
  core.release(1, true, t0);
  core.release(2, true, t0 + 30s);
  core.release(3, true, t0 + 30s);
  CHECK(core.check_idle(t0 + 5s).ping.empty());
  auto at_61 = core.check_idle(t0 + 61s);  // 1 idle 61 s: surplus; 2 and 3 idle 31 s: ping
  CHECK(at_61.close == std::vector<pool_core::conn_id>{1});
  CHECK(at_61.ping.size() == 2);
  for (auto id : at_61.ping) core.release(id, true, t0 + 61s);
  auto at_200 = core.check_idle(t0 + 200s);  // never below min_size
  CHECK(at_200.close.size() == 1);
  CHECK(core.open() == 1);
}

TEST_CASE("pool core: with nothing open and connects failing, acquires fail fast") {
  pool_core core(limits(2, 2));
  REQUIRE(core.connects_needed() == 2);
  CHECK(core.acquire(100).kind == kind::queued);  // nothing known yet: wait
  auto failed = core.connect_failed();
  CHECK(failed.first);
  CHECK(failed.fail_fast == std::vector<pool_core::waiter_id>{100});
  CHECK(core.waiting() == 0);
  CHECK(core.acquire(101).kind == kind::unavailable);
  CHECK_FALSE(core.connect_failed().first);  // logged once per outage
  core.connected(1, t0);
  CHECK_FALSE(core.failing());
  CHECK(core.acquire(102).kind == kind::connection);
}

TEST_CASE("pool core: a failed connect with connections still open lets the waiters wait") {
  auto core = opened(1, 2, 1);
  REQUIRE(core.acquire(100).kind == kind::connection);
  REQUIRE(core.acquire(101).kind == kind::queued);
  REQUIRE(core.connects_needed() == 1);
  CHECK(core.connect_failed().fail_fast.empty());
  CHECK(core.waiting() == 1);
}

TEST_CASE("pool core: reconnect delays double up to the cap") {
  pool_core core(limits(1, 1));
  CHECK(core.reconnect_delay(1) == 50ms);
  CHECK(core.reconnect_delay(2) == 100ms);
  CHECK(core.reconnect_delay(3) == 200ms);
  CHECK(core.reconnect_delay(7) == 2s);
  CHECK(core.reconnect_delay(1000) == 2s);
}

TEST_CASE("pool core: close fails the waiters, closes the idle, and drops what comes back") {
  auto core = opened(2, 2, 2);
  REQUIRE(core.acquire(100).kind == kind::connection);
  REQUIRE(core.acquire(101).kind == kind::connection);
  core.release(2, true, t0);
  REQUIRE(core.acquire(102).kind == kind::connection);
  REQUIRE(core.acquire(103).kind == kind::queued);
  auto closing = core.close();
  CHECK(closing.waiters == std::vector<pool_core::waiter_id>{103});
  CHECK(closing.idle.empty());
  CHECK(core.release(1, true, t0).dropped);
  CHECK(core.acquire(104).kind == kind::closed);
  CHECK(core.connects_needed() == 0);
  CHECK(core.close().waiters.empty());  // idempotent
}
