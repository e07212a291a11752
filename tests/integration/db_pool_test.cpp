// The connection pool and the transaction runner against the real server.

#include "db/pool.hpp"
#include "db/transaction.hpp"
#include "support/async_run.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

using namespace bankd;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace net = boost::asio;
using test::run_async;

namespace {

constexpr db::statement sleep_ms{"test.sleep_ms", "SELECT pg_sleep($1::float8 / 1000), pg_backend_pid()"};
constexpr db::statement backend_pid{"test.pid", "SELECT pg_backend_pid()"};

db::pool_params small_pool(const std::string& conninfo, std::size_t size) {
  db::pool_params p;
  p.connect.conninfo = conninfo;
  p.min_size = size;
  p.max_size = size;
  p.acquire_timeout = 10s;
  p.reconnect_backoff_min = 20ms;
  p.reconnect_backoff_max = 200ms;
  return p;
}

// Starts the pool and waits until all of its connections are open.
void fill(net::io_context& ioc, db::connection_pool& pool) {
  pool.start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (static_cast<std::size_t>(pool.stats().idle.load()) < pool.params().min_size) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    test::run_for(ioc, 10ms);
  }
}

net::awaitable<db::result<std::int64_t>> query_pid(db::connection_pool& pool, int sleep = 0) {
  auto leased = co_await pool.acquire();
  if (!leased) co_return leased.error();
  db::batch b;
  b.add(sleep_ms, db::params{}.add(sleep));
  auto r = co_await (*leased)->execute(b, {}, leased->query_deadline());
  if (!r) co_return r.error();
  co_return r->results[0].int64(0, 1);
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                std::filesystem::directory_iterator{}));
}

}  // namespace

TEST_CASE("1,000 concurrent coroutines share a pool of 4 and every connection comes back idle") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 4));
  fill(ioc, pool);
  int succeeded = 0;
  std::set<std::int64_t> backends;
  auto one = [&]() -> net::awaitable<void> {
    auto pid = co_await query_pid(pool);
    if (pid) {
      ++succeeded;
      backends.insert(*pid);
    }
  };
  for (int i = 0; i < 1000; ++i) net::co_spawn(ioc, one(), net::detached);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (succeeded < 1000 && std::chrono::steady_clock::now() < deadline) test::run_for(ioc, 10ms);
  CHECK(succeeded == 1000);
  CHECK(backends.size() == 4);
  CHECK(pool.stats().idle.load() == 4);
  CHECK(pool.stats().in_use.load() == 0);
  CHECK(pool.stats().waiting.load() == 0);
  CHECK(pool.stats().created.load() == 4);
  pool.close();
}

TEST_CASE("acquiring from an exhausted pool fails with pool_exhausted at the deadline") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 1));
  fill(ioc, pool);
  auto outcome = run_async(ioc, [&]() -> net::awaitable<std::pair<db::errc, db::clock::duration>> {
    auto held = co_await pool.acquire();
    const auto started = db::clock::now();
    auto second = co_await pool.acquire(db::clock::now() + 200ms);
    const auto waited = db::clock::now() - started;
    co_return std::pair{second ? db::errc{} : static_cast<db::errc>(second.error().code.value()), waited};
  }());
  CHECK(outcome.first == db::errc::pool_exhausted);
  CHECK(outcome.second >= 190ms);
  CHECK(outcome.second < 1s);
  CHECK(pool.stats().exhausted.load() == 1);
  CHECK(pool.stats().idle.load() == 1);
}

TEST_CASE("waiters are served first come, first served") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 1));
  fill(ioc, pool);
  std::vector<int> order;
  auto waiter = [&](int id) -> net::awaitable<void> {
    auto l = co_await pool.acquire();
    if (l) order.push_back(id);
    co_await test::sleep_for(5ms);
  };
  auto first = run_async(ioc, pool.acquire());
  REQUIRE(first);
  for (int i = 0; i < 5; ++i) net::co_spawn(ioc, waiter(i), net::detached);
  test::run_for(ioc, 20ms);
  *first = db::lease{};  // give the connection back: the first waiter gets it
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (order.size() < 5 && std::chrono::steady_clock::now() < deadline) test::run_for(ioc, 5ms);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a backend killed mid-query gives connection_lost and the pool replaces it") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 1));
  fill(ioc, pool);
  const auto victim = run_async(ioc, query_pid(pool));
  REQUIRE(victim);

  test::pg_session admin(scratch.conninfo());
  auto killed = run_async(ioc, [&]() -> net::awaitable<db::result<std::int64_t>> {
    auto killer = [&]() -> net::awaitable<void> {
      co_await test::sleep_for(200ms);
      admin.query("SELECT pg_terminate_backend($1)", {std::to_string(*victim)});
    };
    net::co_spawn(co_await net::this_coro::executor, killer(), net::detached);
    co_return co_await query_pid(pool, 5000);
  }());
  REQUIRE_FALSE(killed);
  CHECK(killed.error().code == db::errc::connection_lost);
  CHECK(pool.stats().broken.load() == 1);

  const auto replacement = run_async(ioc, query_pid(pool));
  REQUIRE(replacement);
  CHECK(*replacement != *victim);
  CHECK(pool.stats().created.load() == 2);
}

TEST_CASE("a cancelled coroutine gives its connection back and no descriptor leaks") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 2));
  fill(ioc, pool);
  const auto before = open_descriptors();
  for (int i = 0; i < 20; ++i) {
    auto outcome = run_async(ioc, [&]() -> net::awaitable<int> {
      net::steady_timer timer(co_await net::this_coro::executor, 20ms);
      auto winner = co_await (query_pid(pool, 2000) || timer.async_wait(net::use_awaitable));
      co_return static_cast<int>(winner.index());
    }());
    CHECK(outcome == 1);  // the timer won; the query was cancelled
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((pool.stats().idle.load() < 2 || pool.stats().connecting.load() > 0) &&
         std::chrono::steady_clock::now() < deadline)
    test::run_for(ioc, 10ms);
  CHECK(pool.stats().idle.load() == 2);
  CHECK(pool.stats().in_use.load() == 0);
  CHECK(pool.stats().broken.load() == 20);
  CHECK(open_descriptors() == before);
  auto after = run_async(ioc, query_pid(pool));
  CHECK(after);
}

TEST_CASE("the retry runner re-runs a transaction that lost a serialization conflict") {
  test::scratch_database scratch;
  test::pg_session admin(scratch.conninfo());
  admin.exec("CREATE TABLE doctors (name text PRIMARY KEY, on_call boolean NOT NULL);"
             "INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
  constexpr db::statement count_on_call{"test.on_call", "SELECT count(*) FROM doctors WHERE on_call"};
  constexpr db::statement go_off_call{"test.off_call", "UPDATE doctors SET on_call = false WHERE name = $1"};
  net::io_context ioc;
  db::connection_pool pool(ioc.get_executor(), small_pool(scratch.conninfo(), 2));
  fill(ioc, pool);

  // Classic write skew: each doctor goes off call if someone else is still on
  // call. Both read before either writes, so one of them must fail and retry.
  int have_read = 0;
  int finished = 0;
  std::vector<db::tx_outcome<bool>> outcomes;
  auto doctor = [&](std::string name) -> net::awaitable<void> {
    int attempt = 0;
    auto outcome = co_await db::run_in_transaction(pool, {.operation = "test"}, [&](db::transaction& tx) -> net::awaitable<db::result<bool>> {
      db::batch read;
      read.add(count_on_call);
      auto counted = co_await tx.execute(read);
      if (!counted) co_return counted.error();
      if (++attempt == 1) {
        ++have_read;
        while (have_read < 2) co_await test::sleep_for(1ms);
      }
      if (counted->results[0].int64(0, 0) < 2) {
        co_await tx.rollback();
        co_return false;
      }
      db::batch write;
      write.add(go_off_call, db::params{}.add(name));
      auto written = co_await tx.execute_and_commit(write);
      if (!written) co_return written.error();
      co_return written->committed;
    });
    outcomes.push_back(std::move(outcome));
    ++finished;
  };
  net::co_spawn(ioc, doctor("alice"), net::detached);
  net::co_spawn(ioc, doctor("bob"), net::detached);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (finished < 2 && std::chrono::steady_clock::now() < deadline) test::run_for(ioc, 5ms);
  REQUIRE(finished == 2);
  REQUIRE(outcomes[0].value);
  REQUIRE(outcomes[1].value);
  // At least one retry; under load SSI may abort both first attempts.
  CHECK(outcomes[0].attempts + outcomes[1].attempts >= 3);
  // Serial order: one went off call, the retry saw one left and stayed.
  CHECK((*outcomes[0].value != *outcomes[1].value));
  CHECK(admin.scalar_int("SELECT count(*) FROM doctors WHERE on_call") == 1);
}
