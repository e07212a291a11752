// Server restarts: these stop and start the shared test cluster, so ctest runs
// them alone (RUN_SERIAL).

#include "db/pool.hpp"
#include "support/async_run.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using namespace std::chrono_literals;
namespace net = boost::asio;
using test::run_async;

namespace {

constexpr db::statement select_one{"test.one", "SELECT 1"};

net::awaitable<db::result<void>> ping(db::connection_pool& pool) {
  auto leased = co_await pool.acquire();
  if (!leased) co_return leased.error();
  db::batch b;
  b.add(select_one);
  auto r = co_await (*leased)->execute(b, {}, db::clock::now() + 2s);
  if (!r) co_return r.error();
  co_return db::result<void>{};
}

// Brings the shared cluster back if a test fails while it is stopped.
struct cluster_restarter {
  void stop() {
    test::control_cluster("stop");
    down = true;
  }
  void start() {
    test::control_cluster("start");
    down = false;
  }
  ~cluster_restarter() {
    try {
      if (down) test::control_cluster("start");
    } catch (...) {
    }
  }
  bool down = false;
};

}  // namespace

TEST_CASE("queries fail fast while PostgreSQL is down and succeed after it returns") {
  test::scratch_database scratch;
  net::io_context ioc;
  db::pool_params params;
  params.connect.conninfo = scratch.conninfo();
  params.min_size = params.max_size = 3;
  params.reconnect_backoff_min = 50ms;
  params.reconnect_backoff_max = 500ms;
  db::connection_pool pool(ioc.get_executor(), params);
  pool.start();
  REQUIRE(run_async(ioc, ping(pool)));

  cluster_restarter cluster;
  cluster.stop();

  // The first query may meet a dead idle connection; after that the pool knows.
  std::vector<db::errc> failures;
  for (int i = 0; i < 5; ++i) {
    const auto started = db::clock::now();
    auto r = run_async(ioc, ping(pool));
    REQUIRE_FALSE(r);
    failures.push_back(static_cast<db::errc>(r.error().code.value()));
    CHECK(db::clock::now() - started < 1s);
    test::run_for(ioc, 100ms);
  }
  CHECK(failures.back() == db::errc::unavailable);

  cluster.start();
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    recovered = static_cast<bool>(run_async(ioc, ping(pool)));
    if (!recovered) test::run_for(ioc, 100ms);
  }
  CHECK(recovered);
  // Every connection of the pool works again.
  for (int i = 0; i < 6; ++i) CHECK(run_async(ioc, ping(pool)));
  pool.close();
}
