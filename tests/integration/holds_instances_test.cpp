// Holds across two bankd instances on one database: a post and a void of
// the same hold racing each other have exactly one winner, and exactly one
// instance sweeps expired holds, the other taking over when it stops.

#include "support/eventually.hpp"
#include "support/ledger_world.hpp"

#include <barrier>
#include <chrono>
#include <thread>

using namespace bankd;
using nlohmann::json;
using test::key;
using namespace std::chrono_literals;

using test::eventually;
using test::metric;

TEST_CASE("a post and a void racing, 100 times across two instances: exactly one wins each time") {
  test::ledger_world w;
  test::bankd_server other(w.db.conninfo());
  constexpr int races = 100;
  std::vector<std::int64_t> holds;
  for (int i = 0; i < races; ++i) holds.push_back(w.hold(i % 7 + 1, "h-" + std::to_string(i))["id"].get<std::int64_t>());

  std::vector<unsigned> posts(races), voids(races);
  std::barrier start(2);
  std::thread poster([&] {
    auto client = w.server->client(w.alice.api_key);
    for (int i = 0; i < races; ++i) {
      start.arrive_and_wait();
      posts[static_cast<std::size_t>(i)] =
          w.settle(client, holds[static_cast<std::size_t>(i)], "post", json::object(), "p-" + std::to_string(i)).status;
    }
  });
  std::thread voider([&] {
    auto client = other.client(w.alice.api_key);
    for (int i = 0; i < races; ++i) {
      start.arrive_and_wait();
      voids[static_cast<std::size_t>(i)] =
          w.settle(client, holds[static_cast<std::size_t>(i)], "void", json::object(), "v-" + std::to_string(i)).status;
    }
  });
  poster.join();
  voider.join();

  int posted = 0, voided = 0;
  std::int64_t moved = 0;
  for (std::size_t i = 0; i < holds.size(); ++i) {
    INFO("race " << i << ": post " << posts[i] << ", void " << voids[i]);
    CHECK(((posts[i] == 200 && voids[i] == 409) || (posts[i] == 409 && voids[i] == 200)));
    const auto t = w.transfer(holds[i]);
    CHECK(t["status"] == (posts[i] == 200 ? "posted" : "voided"));
    posted += posts[i] == 200;
    voided += voids[i] == 200;
    if (posts[i] == 200) moved += t["amount"].get<std::int64_t>();
  }
  CHECK(posted + voided == races);
  WARN("posts won " << posted << " races, voids " << voided);
  CHECK(w.sql.scalar_int("SELECT count(*) FROM transfers WHERE kind IN ('post', 'void')") == races);
  CHECK(w.account(w.alice.account_id)["balance"] == 1000 - moved);
  CHECK(w.account(w.alice.account_id)["held"] == 0);
}

TEST_CASE("with two instances exactly one sweeps, and the other takes over when it stops") {
  test::ledger_world w;
  auto second = std::make_unique<test::bankd_server>(w.db.conninfo());
  auto first_metrics = w.server->client();
  auto second_metrics = second->client();
  REQUIRE(eventually([&] { return metric(first_metrics, "bankd_sweeper_leading") +
                                      metric(second_metrics, "bankd_sweeper_leading") == 1; },
                     3000ms));
  const bool first_leads = metric(first_metrics, "bankd_sweeper_leading") == 1;

  std::vector<std::int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(w.hold(5, "h-" + std::to_string(i), 1)["id"].get<std::int64_t>());
  REQUIRE(eventually([&] { return w.sql.scalar_int("SELECT count(*) FROM holds") == 0; }, 5000ms));
  CHECK(w.sql.scalar_int("SELECT count(*) FROM transfers WHERE kind = 'expire'") == 10);
  // Each within 2 s of its deadline.
  CHECK(w.sql.scalar_int(R"sql(
      SELECT count(*) FROM transfers e JOIN transfers p ON p.id = e.pending_id
       WHERE e.kind = 'expire' AND e.created_at - p.expires_at BETWEEN interval '0' AND interval '2 seconds')sql") == 10);
  auto& leader = first_leads ? first_metrics : second_metrics;
  auto& follower = first_leads ? second_metrics : first_metrics;
  CHECK(eventually([&] { return metric(leader, "bankd_holds_expired_total") == 10; }, 2000ms));
  CHECK(metric(follower, "bankd_holds_expired_total") == 0);
  CHECK(metric(follower, "bankd_sweeper_leading") == 0);

  // The leader stops; the other takes the lock over and sweeps.
  auto& survivor = first_leads ? *second : *w.server;
  (first_leads ? w.server : second).reset();
  auto survivor_metrics = survivor.client();
  REQUIRE(eventually([&] { return metric(survivor_metrics, "bankd_sweeper_leading") == 1; }, 3000ms));
  auto alice = survivor.client(w.alice.api_key);
  auto made = alice.post("/transfers", {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                                        {"amount", 5}, {"pending", true}, {"timeout_seconds", 1}},
                         key("after"));
  REQUIRE(made.status == 201);
  const auto path = "/transfers/" + made.json()["id"].dump();
  REQUIRE(eventually([&] { return alice.get(path).json()["status"] == "expired"; }, 4000ms));
  // It followed until now. The sweeper counts an expiry once its batch has
  // answered, a moment after the status reads "expired".
  CHECK(eventually([&] { return metric(survivor_metrics, "bankd_holds_expired_total") == 1; }, 2000ms));
}
