// Money under concurrency: many clients hammering few accounts, and
// duplicate requests racing with one idempotency key.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <memory>
#include <set>
#include <thread>

using namespace bankd;
using nlohmann::json;

TEST_CASE("16 clients x 300 transfers among 5 accounts keep every invariant") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto op = server.operator_client();
  std::vector<test::funded_account> accounts;
  for (int i = 0; i < 5; ++i) accounts.push_back(test::create_funded_account(op, "EUR", 10'000));

  std::atomic<int> created{0}, refused{0}, unavailable{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c));
      std::vector<std::unique_ptr<test::http_client>> as_owner;
      for (const auto& a : accounts)
        as_owner.push_back(std::make_unique<test::http_client>(server.port(), a.api_key));
      for (int i = 0; i < 300; ++i) {
        const auto from = rng() % accounts.size();
        const auto to = (from + 1 + rng() % (accounts.size() - 1)) % accounts.size();
        const json body{{"from_account_id", accounts[from].account_id},
                        {"to_account_id", accounts[to].account_id},
                        {"amount", 1 + rng() % 700}};
        const auto key = "c" + std::to_string(c) + "-" + std::to_string(i);
        const auto reply = as_owner[from]->post("/transfers", body, {{"Idempotency-Key", key}});
        if (reply.status == 201) ++created;
        else if (reply.status == 409) ++refused;
        else if (reply.status == 503) ++unavailable;
        else ++other;
      }
    });
  }
  for (auto& t : clients) t.join();

  INFO("201: " << created << " 409: " << refused << " 503: " << unavailable << " other: " << other);
  CHECK(other == 0);
  CHECK(created > 1000);
  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT sum(balance) FROM accounts WHERE kind = 'customer'") == 50'000);
  CHECK(check.scalar_int("SELECT sum(balance) FROM accounts") == 0);
  CHECK(check.scalar_int("SELECT count(*) FROM accounts WHERE kind = 'customer' AND balance < 0") == 0);
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE initiated_by <> 0") == created);
  // Every balance equals its ledger: credits minus debits.
  CHECK(check.scalar_int(R"sql(
      SELECT count(*) FROM accounts a
       WHERE a.balance <> COALESCE((SELECT sum(amount) FROM transfers WHERE to_account_id = a.id), 0)
                        - COALESCE((SELECT sum(amount) FROM transfers WHERE from_account_id = a.id), 0))sql") == 0);
}

TEST_CASE("concurrent requests with one idempotency key move money once") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 1000);
  auto bob = test::create_funded_account(op, "EUR", 0);
  const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 100}};

  for (int round = 0; round < 5; ++round) {
    const auto key = "dup-" + std::to_string(round);
    std::vector<test::http_reply> replies(8);
    std::vector<std::thread> racers;
    for (std::size_t i = 0; i < replies.size(); ++i)
      racers.emplace_back([&, i] {
        auto client = server.client(alice.api_key);
        replies[i] = client.post("/transfers", body, {{"Idempotency-Key", key}});
      });
    for (auto& t : racers) t.join();
    std::set<std::string> ids;
    int replayed = 0;
    for (const auto& r : replies) {
      REQUIRE(r.status == 201);
      ids.insert(r.json()["id"].dump());
      if (r.header("idempotent-replayed") == "true") ++replayed;
    }
    CHECK(ids.size() == 1);
    CHECK(replayed == 7);
  }
  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(bob.account_id)}) == 500);
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE initiated_by = $1", {std::to_string(alice.user_id)}) == 5);
}
