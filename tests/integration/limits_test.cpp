// Abuse and overload: unknown keys are refused from memory and then
// rate-limited per client address, /readyz costs at most one probe a second
// per thread, and each client address has its own connection cap.

#include "support/bankd_server.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <thread>

using namespace bankd;
using nlohmann::json;

namespace {

// The pool's connections handed out so far: one per database round trip.
double acquires(test::http_client& client) {
  const auto text = client.get("/metrics").body;
  std::smatch m;
  const std::regex line("\nbankd_db_pool_acquires_total ([0-9.e+]+)");
  if (!std::regex_search(text, m, line)) throw std::runtime_error("no bankd_db_pool_acquires_total");
  return std::stod(m[1]);
}

}  // namespace

TEST_CASE("an unknown key is refused from memory when it comes again") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 1);
  auto probe = server.client();
  auto anonymous = server.client("bk_" + std::string(43, 'Z'));
  REQUIRE(anonymous.get("/users/1").status == 401);
  const auto before = acquires(probe);
  for (int i = 0; i < 50; ++i) REQUIRE(anonymous.get("/users/1").status == 401);
  CHECK(acquires(probe) - before <= 2);  // one more lookup once the memory expires (2 s)
}

TEST_CASE("a client address presenting many unknown keys gets 429 before its lookups reach the database") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo(), 1);
  cfg.auth_failure_burst = 5;
  cfg.auth_failure_rate = 1;
  test::bankd_server server(cfg);
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  REQUIRE(as_alice.get("/users/" + std::to_string(alice.user_id)).status == 200);  // verified: remembered 1 s

  auto guesser = server.client();
  std::vector<unsigned> answers;
  for (int i = 0; i < 8; ++i) {
    guesser.set_bearer("bk_guess" + std::to_string(i) + std::string(35, 'q'));
    answers.push_back(guesser.get("/users/1").status);
  }
  CHECK(std::count(answers.begin(), answers.end(), 401u) == 5);
  CHECK(std::count(answers.begin(), answers.end(), 429u) == 3);
  guesser.set_bearer("bk_last" + std::string(36, 'q'));
  auto limited = guesser.get("/users/1");
  CHECK(limited.error_code() == "rate_limited");
  CHECK(limited.header("retry-after") == "1");
  const auto before = acquires(op);
  for (int i = 0; i < 20; ++i) {
    guesser.set_bearer("bk_more" + std::to_string(i) + std::string(34, 'q'));
    CHECK(guesser.get("/users/1").status == 429);
  }
  CHECK(acquires(op) - before <= 1);

  CHECK(as_alice.get("/users/" + std::to_string(alice.user_id)).status == 200);  // a known key still works
  test::http_client elsewhere(server.port(), "bk_other" + std::string(35, 'q'), "127.0.0.2");
  CHECK(elsewhere.get("/users/1").status == 401);  // another address has its own budget
}

TEST_CASE("/readyz sends at most one probe a second per thread, however often it is asked") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2);
  auto client = server.client();
  REQUIRE(client.get("/readyz").status == 200);
  const auto before = acquires(client);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) REQUIRE(client.get("/readyz").status == 200);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO("300 probes in " << seconds << " s");
  CHECK(acquires(client) - before <= 2 * (seconds + 1));
}

TEST_CASE("each client address has a connection cap of its own, besides the global one") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.max_connections_per_client = 3;
  test::bankd_server server(cfg);
  std::vector<std::unique_ptr<test::http_client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<test::http_client>(server.port()));
    REQUIRE(held.back()->get("/healthz").status == 200);
  }
  auto fourth = server.client().get("/healthz");
  CHECK(fourth.status == 503);
  CHECK(fourth.error_code() == "too_many_connections");
  CHECK(test::http_client(server.port(), {}, "127.0.0.2").get("/healthz").status == 200);
  held.pop_back();  // closes one
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    admitted = server.client().get("/healthz").status == 200;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(admitted);
}
