// The service's life around the database and signals. These stop the shared
// test cluster or run bankd as a separate process, so they run alone.

#include "support/bankd_process.hpp"
#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <csignal>
#include <sys/wait.h>
#include <thread>

using namespace bankd;
using namespace std::chrono_literals;
using nlohmann::json;
using test::bankd_process;
using test::free_port;
using test::wait_ready;

namespace {

// Brings the shared cluster back if a test fails while it is stopped.
struct cluster_guard {
  void stop() {
    test::control_cluster("stop");
    down = true;
  }
  void start() {
    test::control_cluster("start");
    down = false;
  }
  ~cluster_guard() {
    try {
      if (down) test::control_cluster("start");
    } catch (...) {
    }
  }
  bool down = false;
};

}  // namespace

TEST_CASE("readiness is 503 while the database is down and 200 when it returns") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 1, 2);
  auto client = server.client();
  REQUIRE(client.get("/readyz").status == 200);
  {
    cluster_guard cluster;
    cluster.stop();
    // Each thread probes at most once a second: 503 within a second or so.
    const auto started = std::chrono::steady_clock::now();
    auto down = client.get("/readyz");
    while (down.status == 200 && std::chrono::steady_clock::now() - started < 1500ms) {
      std::this_thread::sleep_for(50ms);
      down = client.get("/readyz");
    }
    CHECK(down.status == 503);
    CHECK(down.header("retry-after") == "1");
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    CHECK(client.get("/healthz").status == 200);
    // Requests that need the database fail fast with 503 too.
    auto op = server.operator_client();
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(op.post("/users", {{"name", "x"}, {"email", "x@example.com"}}).status == 503);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    cluster.start();
  }
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = client.get("/readyz").status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  CHECK(ready);
}

TEST_CASE("SIGTERM with requests in flight answers every request bankd accepted") {
  test::scratch_database db;
  const auto port = free_port();
  bankd_process bankd(db.conninfo(), port);
  REQUIRE(wait_ready(port));
  test::http_client op(port, test::operator_key);
  std::vector<test::funded_account> accounts;
  for (int i = 0; i < 4; ++i) accounts.push_back(test::create_funded_account(op, "EUR", 1'000'000));

  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      try {
        test::http_client client(port, accounts[static_cast<std::size_t>(c % 4)].api_key);
        for (int i = 0; !stop; ++i) {
          const json body{{"from_account_id", accounts[static_cast<std::size_t>(c % 4)].account_id},
                          {"to_account_id", accounts[static_cast<std::size_t>((c + 1) % 4)].account_id},
                          {"amount", 1}};
          auto reply = client.post("/transfers", body, {{"Idempotency-Key", "s" + std::to_string(c) + "-" + std::to_string(i)}});
          if (reply.status == 201) ++acknowledged;
          if (reply.header("connection") == "close") break;  // bankd is shutting down
        }
      } catch (...) {
        // Connection closed by the shutdown between requests.
      }
    });
  std::this_thread::sleep_for(1500ms);
  const int status = bankd.stop(SIGTERM);
  stop = true;
  for (auto& t : clients) t.join();

  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(acknowledged > 0);
  test::pg_session check(db.conninfo());
  // Nothing committed without its client hearing about it, nothing
  // acknowledged that did not commit.
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE initiated_by <> 0") == acknowledged);
}

TEST_CASE("shutdown cancels what still runs after the grace period") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.shutdown_timeout = 300ms;
  auto server = std::make_unique<test::bankd_server>(cfg);
  auto op = server->operator_client();
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  // Another session holds alice's row, so a transfer from it waits on the lock.
  test::pg_session locker(db.conninfo());
  locker.exec("BEGIN");
  locker.query("SELECT balance FROM accounts WHERE id = $1 FOR UPDATE", {std::to_string(alice.account_id)});
  std::atomic<unsigned> stuck_status{1};
  std::thread stuck([&] {
    try {
      auto client = server->client(alice.api_key);
      const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 5}};
      stuck_status = client.post("/transfers", body, {{"Idempotency-Key", "held"}}).status;
    } catch (...) {
      stuck_status = 0;  // closed without an answer
    }
  });
  std::this_thread::sleep_for(300ms);
  const auto started = std::chrono::steady_clock::now();
  server->service().shutdown();
  const auto took = std::chrono::steady_clock::now() - started;
  stuck.join();
  locker.exec("ROLLBACK");

  CHECK(took < 3s);                // grace period, then terminal cancellation: not the 5 s query deadline
  CHECK(took >= 300ms);            // the request in flight had its grace period
  CHECK(stuck_status.load() == 0);  // cancelled, not answered
}

namespace {

std::int64_t bankd_backends(test::pg_session& admin, const std::string& dbname) {
  return admin.scalar_int("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'bankd'",
                          {dbname});
}

}  // namespace

TEST_CASE("a transfer bankd gave up on never commits later, when the lock it waited for is freed") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.query_timeout = 1500ms;
  // With the server's own timeouts off, only bankd's cancel (and the
  // server noticing the closed connection) stop the waiting statement.
  cfg.statement_timeout = 0ms;
  cfg.lock_timeout = 0ms;
  test::bankd_server server(cfg);
  auto op = server.operator_client();
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  test::pg_session admin(test::admin_conninfo());
  std::this_thread::sleep_for(200ms);
  const auto backends_before = bankd_backends(admin, db.name());

  test::pg_session locker(db.conninfo());
  locker.exec("BEGIN");
  locker.query("SELECT balance FROM accounts WHERE id = $1 FOR UPDATE", {std::to_string(alice.account_id)});
  const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 5}};
  auto gave_up = as_alice.post("/transfers", body, {{"Idempotency-Key", "abandoned"}});
  CHECK(gave_up.status == 503);
  CHECK(gave_up.error_code() == "outcome_unknown");
  std::this_thread::sleep_for(1500ms);  // the lock is held well past bankd's deadline
  locker.exec("COMMIT");
  std::this_thread::sleep_for(1000ms);

  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE idempotency_key = 'abandoned'") == 0);
  CHECK(check.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(bob.account_id)}) == 0);
  CHECK(bankd_backends(admin, db.name()) <= backends_before);
  // The replay resolves the unknown outcome: it was not done, so now it is.
  auto replay = as_alice.post("/transfers", body, {{"Idempotency-Key", "abandoned"}});
  CHECK(replay.status == 201);
  CHECK(replay.header("idempotent-replayed").empty());
}

TEST_CASE("with the session timeouts, a lock held too long is a definite refusal: nothing happened") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.query_timeout = 1500ms;
  cfg.lock_timeout = 500ms;
  cfg.statement_timeout = 1000ms;
  test::bankd_server server(cfg);
  auto op = server.operator_client();
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  test::pg_session locker(db.conninfo());
  locker.exec("BEGIN");
  locker.query("SELECT balance FROM accounts WHERE id = $1 FOR UPDATE", {std::to_string(alice.account_id)});
  const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 5}};
  auto refused = as_alice.post("/transfers", body, {{"Idempotency-Key", "locked-out"}});
  locker.exec("COMMIT");
  CHECK(refused.status == 503);
  CHECK(refused.error_code() == "service_unavailable");  // the server said it gave up: not unknown
  CHECK_FALSE(refused.header("retry-after").empty());
  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE idempotency_key = 'locked-out'") == 0);
  CHECK(as_alice.post("/transfers", body, {{"Idempotency-Key", "locked-out"}}).status == 201);
}
