// API keys and operator controls: several named keys per user, revocation
// seen by every instance within a second, operator keys (two at once, 32+
// characters), freezing users and accounts.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <thread>

using namespace bankd;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string path(const char* prefix, std::int64_t id, const char* suffix = "") {
  return std::string(prefix) + std::to_string(id) + suffix;
}

// Polls `still_works` until it turns false; how long that took.
template <class Check>
std::chrono::milliseconds time_until_refused(Check still_works) {
  const auto start = std::chrono::steady_clock::now();
  while (still_works() && std::chrono::steady_clock::now() - start < 15s) std::this_thread::sleep_for(20ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("a user holds several named keys, lists them and revokes one at once, even holding money") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 500);
  auto as_alice = server.client(alice.api_key);

  auto made = as_alice.post(path("/users/", alice.user_id, "/api-keys"), {{"name", "laptop"}});
  REQUIRE(made.status == 201);
  const auto second = made.json()["api_key"].get<std::string>();
  const auto second_id = made.json()["id"].get<std::int64_t>();
  CHECK(made.header("location") == path("/users/", alice.user_id, "/api-keys/") + std::to_string(second_id));
  CHECK(made.json()["last_used_at"].is_null());
  CHECK(second != alice.api_key);
  CHECK(server.client(second).get(path("/accounts/", alice.account_id)).status == 200);

  auto list = as_alice.get(path("/users/", alice.user_id, "/api-keys"));
  REQUIRE(list.status == 200);
  const auto keys = list.json()["api_keys"];
  REQUIRE(keys.size() == 2);
  CHECK(keys[0]["name"] == "default");
  CHECK(keys[1]["name"] == "laptop");
  CHECK_FALSE(keys[1].contains("api_key"));
  CHECK(keys[0]["last_used_at"].is_string());  // the default key made these requests

  // Revoked while the user holds money; the other key keeps working.
  REQUIRE(as_alice.del(path("/users/", alice.user_id, "/api-keys/") + std::to_string(second_id)).status == 204);
  CHECK(server.client(second).get(path("/accounts/", alice.account_id)).status == 401);
  CHECK(as_alice.get(path("/accounts/", alice.account_id)).status == 200);
  CHECK(as_alice.del(path("/users/", alice.user_id, "/api-keys/") + std::to_string(second_id)).status == 204);
  CHECK(as_alice.del(path("/users/", alice.user_id, "/api-keys/999999")).status == 404);

  SECTION("the operator revokes a leaked key and makes a new one") {
    const auto first_id = keys[0]["id"].get<std::int64_t>();
    // Connections spread over both worker threads, each with the key cached.
    std::deque<test::http_client> alices;
    for (int i = 0; i < 4; ++i) {
      alices.emplace_back(server.port(), alice.api_key);
      REQUIRE(alices.back().get(path("/accounts/", alice.account_id)).status == 200);
    }
    REQUIRE(op.del(path("/users/", alice.user_id, "/api-keys/") + std::to_string(first_id)).status == 204);
    // The threads share one cache: refused at once on every connection.
    for (auto& client : alices) CHECK(client.get(path("/accounts/", alice.account_id)).status == 401);
    CHECK(as_alice.get(path("/accounts/", alice.account_id)).status == 401);
    auto fresh = op.post(path("/users/", alice.user_id, "/api-keys"), {{"name", "replacement"}});
    REQUIRE(fresh.status == 201);
    CHECK(server.client(fresh.json()["api_key"].get<std::string>()).get(path("/accounts/", alice.account_id)).status == 200);
  }
  SECTION("another user cannot see or touch them; at most 10 keys") {
    auto bob = test::create_funded_account(op, "EUR", 0);
    auto as_bob = server.client(bob.api_key);
    CHECK(as_bob.get(path("/users/", alice.user_id, "/api-keys")).status == 403);
    CHECK(as_bob.post(path("/users/", alice.user_id, "/api-keys"), {{"name", "mine now"}}).status == 403);
    for (int i = 0; i < 9; ++i)
      REQUIRE(as_bob.post(path("/users/", bob.user_id, "/api-keys"), {{"name", "k" + std::to_string(i)}}).status == 201);
    auto eleventh = as_bob.post(path("/users/", bob.user_id, "/api-keys"), {{"name", "one too many"}});
    CHECK(eleventh.status == 409);
    CHECK(eleventh.error_code() == "limit_reached");
    CHECK(as_bob.post(path("/users/", bob.user_id, "/api-keys"), {{"name", ""}}).status == 422);
    CHECK(op.post("/users/999999/api-keys", {{"name", "x"}}).status == 404);
  }
}

TEST_CASE("a revoked key and a deleted user's key are refused by another instance within 1 s") {
  test::scratch_database db;
  test::bankd_server a(db.conninfo(), 1);
  test::bankd_server b(db.conninfo(), 1);
  auto op = a.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  auto extra = op.post(path("/users/", alice.user_id, "/api-keys"), {{"name", "ci"}});
  REQUIRE(extra.status == 201);
  const auto key = extra.json()["api_key"].get<std::string>();
  auto on_b = b.client(key);
  REQUIRE(on_b.get(path("/users/", alice.user_id)).status == 200);  // now in b's cache

  REQUIRE(op.del(path("/users/", alice.user_id, "/api-keys/") + std::to_string(extra.json()["id"].get<std::int64_t>())).status == 204);
  const auto revoked_after = time_until_refused([&] { return on_b.get(path("/users/", alice.user_id)).status == 200; });
  INFO("refused by the other instance after " << revoked_after.count() << " ms");
  CHECK(on_b.get(path("/users/", alice.user_id)).status == 401);
  CHECK(revoked_after <= 1100ms);

  auto alice_on_b = b.client(alice.api_key);
  REQUIRE(alice_on_b.get(path("/users/", alice.user_id)).status == 200);
  REQUIRE(op.del(path("/users/", alice.user_id)).status == 204);
  const auto deleted_after = time_until_refused([&] { return alice_on_b.get(path("/users/", alice.user_id)).status != 401; });
  INFO("deleted user refused after " << deleted_after.count() << " ms");
  CHECK(deleted_after <= 1100ms);
}

TEST_CASE("two operator keys are valid at once, for rotation") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  const std::string next = "next-operator-key-abcdefghijklmnopqrstuvwxyz";
  cfg.operator_keys = {test::operator_key, next};
  test::bankd_server server(cfg);
  CHECK(server.client(test::operator_key).post("/users", {{"name", "A"}, {"email", "a@example.com"}}).status == 201);
  CHECK(server.client(next).post("/users", {{"name", "B"}, {"email", "b@example.com"}}).status == 201);
  CHECK(server.client(next + "x").post("/users", {{"name", "C"}, {"email", "c@example.com"}}).status == 401);
}

TEST_CASE("the operator freezes and unfreezes users and accounts") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 100);

  auto frozen = op.post(path("/accounts/", alice.account_id, "/freeze"), json::object());
  REQUIRE(frozen.status == 200);
  const auto since = frozen.json()["frozen_at"].get<std::string>();
  CHECK(op.post(path("/accounts/", alice.account_id, "/freeze"), json::object()).json()["frozen_at"] == since);
  CHECK(server.client(alice.api_key).get(path("/accounts/", alice.account_id)).json()["frozen_at"] == since);
  CHECK(server.client(alice.api_key).post(path("/accounts/", alice.account_id, "/unfreeze"), json::object()).status == 403);
  auto thawed = op.post(path("/accounts/", alice.account_id, "/unfreeze"), json::object());
  REQUIRE(thawed.status == 200);
  CHECK_FALSE(thawed.json().contains("frozen_at"));

  auto user = op.post(path("/users/", alice.user_id, "/freeze"), json::object());
  REQUIRE(user.status == 200);
  CHECK(user.json()["frozen_at"].is_string());
  CHECK(server.client(alice.api_key).get(path("/users/", alice.user_id)).status == 200);  // still reads
  CHECK_FALSE(op.post(path("/users/", alice.user_id, "/unfreeze"), json::object()).json().contains("frozen_at"));
  CHECK(op.post("/users/999999/freeze", json::object()).status == 404);
  CHECK(op.post("/accounts/999999/freeze", json::object()).status == 404);

  test::pg_session sql(db.conninfo());
  CHECK(sql.scalar("SELECT frozen_at IS NULL FROM accounts WHERE id = $1", {std::to_string(alice.account_id)}) == "t");
}

// Every movement goes through the transfer engine (bank_apply_batch): one
// refusal for POST /transfers, POST /transfers/batch and deposits alike.
TEST_CASE("a frozen account, or an account of a frozen user, cannot send but can receive") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 100);
  auto bob = test::create_funded_account(op, "EUR", 100);
  auto as_alice = server.client(alice.api_key);
  auto send = [&](std::int64_t from, std::int64_t to, const std::string& key) {
    return server.client(from == alice.account_id ? alice.api_key : bob.api_key)
        .post("/transfers", {{"from_account_id", from}, {"to_account_id", to}, {"amount", 1}}, {{"Idempotency-Key", key}});
  };
  REQUIRE(op.post(path("/accounts/", alice.account_id, "/freeze"), json::object()).status == 200);
  auto refused = send(alice.account_id, bob.account_id, "f1");
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "account_frozen");
  CHECK(send(bob.account_id, alice.account_id, "f2").status == 201);
  REQUIRE(op.post(path("/accounts/", alice.account_id, "/unfreeze"), json::object()).status == 200);
  CHECK(send(alice.account_id, bob.account_id, "f3").status == 201);

  REQUIRE(op.post(path("/users/", bob.user_id, "/freeze"), json::object()).status == 200);
  auto by_user = send(bob.account_id, alice.account_id, "f4");
  CHECK(by_user.status == 409);
  CHECK(by_user.error_code() == "account_frozen");
  test::pg_session sql(db.conninfo());
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(bob.account_id)}) == 100);

  // The batch route: the frozen user's item is refused on its own; in an
  // atomic batch it takes the others with it.
  const auto item = [](std::int64_t from, std::int64_t to, const std::string& key) {
    return json{{"from_account_id", from}, {"to_account_id", to}, {"amount", 1}, {"idempotency_key", key}};
  };
  auto as_bob = server.client(bob.api_key);
  auto mixed = as_bob.post("/transfers/batch", {{"transfers", {item(bob.account_id, alice.account_id, "b1")}}});
  REQUIRE(mixed.status == 200);
  CHECK(mixed.json()["results"][0]["status"] == 409);
  CHECK(mixed.json()["results"][0]["error"]["code"] == "account_frozen");
  REQUIRE(op.post(path("/accounts/", alice.account_id, "/freeze"), json::object()).status == 200);
  auto atomic = as_alice.post("/transfers/batch", {{"atomic", true},
                                                   {"transfers", {item(alice.account_id, bob.account_id, "b2")}}});
  REQUIRE(atomic.status == 200);
  CHECK(atomic.json()["results"][0]["error"]["code"] == "account_frozen");
  auto by_operator = op.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id},
                                            {"amount", 1}}, {{"Idempotency-Key", "op-1"}});
  CHECK(by_operator.error_code() == "account_frozen");  // the operator cannot move a frozen account's money either
  auto deposit = op.post(path("/accounts/", alice.account_id, "/deposits"), {{"amount", 5}}, {{"Idempotency-Key", "d1"}});
  CHECK(deposit.status == 201);  // a frozen account still receives
  // What went through: f2 (bob -> alice), f3 (alice -> bob) and the deposit.
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(alice.account_id)}) == 105);
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(bob.account_id)}) == 100);
}
