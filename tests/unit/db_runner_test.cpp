// run_in_transaction against a fake pool and connection: retries, rollback,
// attempts, deadlines and what the observer is told, with no PostgreSQL.

#include "db/transaction.hpp"
#include "support/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <deque>

using namespace bankd;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

// Answers each execute() with the next scripted error, or success once the script is empty.
struct fake_connection {
  std::deque<db::errc> script;
  int executes = 0;
  int commits_sent = 0;
  int rollbacks = 0;

  net::awaitable<db::result<db::batch_result>> execute(const db::batch&, db::tx_frame frame,
                                                       db::clock::time_point) {
    ++executes;
    if (frame.commit) ++commits_sent;
    if (!script.empty()) {
      const auto e = script.front();
      script.pop_front();
      db::error err = db::error::client(e, "scripted");
      co_return err;
    }
    db::batch_result done;
    done.committed = frame.commit;
    co_return done;
  }
  net::awaitable<db::result<void>> rollback(db::clock::time_point) {
    ++rollbacks;
    co_return db::result<void>{};
  }
};

struct fake_lease {
  fake_connection* conn;
  fake_connection& operator*() const { return *conn; }
  fake_connection* operator->() const { return conn; }
};

struct fake_pool {
  struct params_type {
    std::chrono::milliseconds acquire_timeout{2000};
    std::chrono::milliseconds query_timeout{5000};
  };
  fake_connection conn;
  std::deque<db::errc> acquire_failures;
  int acquires = 0;
  params_type params_;

  const params_type& params() const { return params_; }
  net::awaitable<db::result<fake_lease>> acquire(db::clock::time_point) {
    ++acquires;
    if (!acquire_failures.empty()) {
      const auto e = acquire_failures.front();
      acquire_failures.pop_front();
      co_return db::error::client(e, "scripted");
    }
    co_return fake_lease{&conn};
  }
};

struct recorder final : db::transaction_observer {
  std::vector<db::transaction_report> reports;
  void on_transaction(const db::transaction_report& r) override { reports.push_back(r); }
};

using fake_tx = db::basic_transaction<fake_connection>;

template <class T>
T run(net::io_context& ioc, net::awaitable<T> task) {
  auto done = net::co_spawn(ioc, std::move(task), net::use_future);
  ioc.restart();
  ioc.run();
  return done.get();
}

db::run_options options(recorder& seen, int max_attempts = 5) {
  db::run_options o;
  o.operation = "test.op";
  o.policy.max_attempts = max_attempts;
  o.policy.backoff_base = 1us;
  o.policy.backoff_cap = 10us;
  o.observer = &seen;
  return o;
}

// A body that sends one batch and commits it.
auto commit_one = [](fake_tx& tx) -> net::awaitable<db::result<bool>> {
  auto done = co_await tx.execute_and_commit(db::batch{});
  if (!done) co_return done.error();
  co_return done->committed;
};

}  // namespace

TEST_CASE("runner: serialization failures and deadlocks re-run the whole body until it commits") {
  net::io_context ioc;
  fake_pool pool;
  pool.conn.script = {db::errc::serialization_failure, db::errc::deadlock_detected};
  recorder seen;
  auto outcome = run(ioc, db::run_in_transaction(pool, options(seen), commit_one));
  REQUIRE(outcome.value);
  CHECK(*outcome.value);
  CHECK(outcome.attempts == 3);
  CHECK(pool.acquires == 3);  // a fresh lease per attempt
  REQUIRE(seen.reports.size() == 1);
  CHECK(seen.reports[0].end == db::run_end::committed);
  CHECK(seen.reports[0].attempts == 3);
  CHECK(seen.reports[0].conflicts == 2);
  CHECK(seen.reports[0].operation == "test.op");
}

TEST_CASE("runner: max_attempts bounds the retries and the run reports retries_exhausted") {
  net::io_context ioc;
  fake_pool pool;
  pool.conn.script.assign(10, db::errc::serialization_failure);
  recorder seen;
  auto outcome = run(ioc, db::run_in_transaction(pool, options(seen, 4), commit_one));
  REQUIRE_FALSE(outcome.value);
  CHECK(outcome.value.error().code == db::errc::serialization_failure);
  CHECK(outcome.attempts == 4);
  REQUIRE(seen.reports.size() == 1);
  CHECK(seen.reports[0].end == db::run_end::retries_exhausted);
  CHECK(seen.reports[0].conflicts == 4);
}

TEST_CASE("runner: any other error ends the run at the first attempt") {
  net::io_context ioc;
  fake_pool pool;
  pool.conn.script = {db::errc::unique_violation};
  recorder seen;
  auto outcome = run(ioc, db::run_in_transaction(pool, options(seen), commit_one));
  REQUIRE_FALSE(outcome.value);
  CHECK(outcome.value.error().code == db::errc::unique_violation);
  CHECK(outcome.attempts == 1);
  CHECK(seen.reports.at(0).end == db::run_end::failed);
  CHECK(seen.reports.at(0).conflicts == 0);
}

TEST_CASE("runner: a body that gives up mid-transaction is rolled back, one that returns early is committed") {
  net::io_context ioc;
  fake_pool pool;
  recorder seen;
  auto refuse = [](fake_tx& tx) -> net::awaitable<db::result<bool>> {
    auto done = co_await tx.execute(db::batch{});
    if (!done) co_return done.error();
    co_return db::error::client(db::errc::server_error, "refused in code");
  };
  auto refused = run(ioc, db::run_in_transaction(pool, options(seen), refuse));
  CHECK_FALSE(refused.value);
  CHECK(pool.conn.rollbacks == 1);
  CHECK(pool.conn.commits_sent == 0);

  auto read_then_stop = [](fake_tx& tx) -> net::awaitable<db::result<bool>> {
    auto done = co_await tx.execute(db::batch{});
    if (!done) co_return done.error();
    co_return true;
  };
  auto committed = run(ioc, db::run_in_transaction(pool, options(seen), read_then_stop));
  CHECK(committed.value);
  CHECK(pool.conn.commits_sent == 1);  // the runner sent the COMMIT
  CHECK(pool.conn.rollbacks == 1);
}

TEST_CASE("runner: no retry starts after the run's deadline") {
  net::io_context ioc;
  fake_pool pool;
  // Pauses are random in [0, 50 ms]: with room for 1,000 attempts, only the
  // 120 ms deadline can end the run (9 attempts could all fit by chance).
  pool.conn.script.assign(1000, db::errc::serialization_failure);
  recorder seen;
  auto o = options(seen, 1000);
  o.policy.backoff_base = 50ms;
  o.policy.backoff_cap = 50ms;
  o.deadline = db::clock::now() + 120ms;
  auto outcome = run(ioc, db::run_in_transaction(pool, o, commit_one));
  REQUIRE_FALSE(outcome.value);
  CHECK(outcome.attempts < 1000);
  CHECK(seen.reports.at(0).end == db::run_end::retries_exhausted);
}

TEST_CASE("runner: a connection that cannot be had ends the run without running the body") {
  net::io_context ioc;
  fake_pool pool;
  pool.acquire_failures = {db::errc::pool_exhausted};
  recorder seen;
  int bodies = 0;
  auto counting = [&](fake_tx& tx) -> net::awaitable<db::result<bool>> {
    ++bodies;
    co_return co_await commit_one(tx);
  };
  auto outcome = run(ioc, db::run_in_transaction(pool, options(seen), counting));
  REQUIRE_FALSE(outcome.value);
  CHECK(outcome.value.error().code == db::errc::pool_exhausted);
  CHECK(bodies == 0);
  CHECK(pool.conn.executes == 0);
}
