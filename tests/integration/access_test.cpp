// What a caller learns and may make: another user's accounts look missing,
// creation with Idempotency-Key, per-user caps, the currency allowlist and
// paging through many accounts or an exactly full last page.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using nlohmann::json;

namespace {

std::string path(const char* prefix, std::int64_t id, const char* suffix = "") {
  return std::string(prefix) + std::to_string(id) + suffix;
}

// Everything of an answer a client could tell apart, but its request id.
std::string answer(const test::http_reply& r) { return std::to_string(r.status) + " " + r.body; }

}  // namespace

TEST_CASE("another user's account answers exactly as one that does not exist, also when debited") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 1000);
  auto bob = test::create_funded_account(op, "EUR", 1000);
  auto as_alice = server.client(alice.api_key);
  test::pg_session sql(db.conninfo());
  // An id no account has.
  const auto missing = sql.scalar_int("SELECT max(id) + 1000 FROM accounts");
  const auto id_text = [](std::int64_t id) { return std::to_string(id); };

  // Each pair: bob's account, then an account that does not exist, with the
  // id in the same place of the request.
  for (const auto& [foreign, absent] : std::vector<std::pair<std::string, std::string>>{
           {"/accounts/" + id_text(bob.account_id), "/accounts/" + id_text(missing)},
           {"/accounts/" + id_text(bob.account_id) + "/transfers", "/accounts/" + id_text(missing) + "/transfers"}}) {
    INFO(foreign);
    auto a = as_alice.get(foreign);
    auto b = as_alice.get(absent);
    CHECK(a.status == 404);
    CHECK(a.body == std::string(b.body).replace(b.body.find(id_text(missing)), id_text(missing).size(), id_text(bob.account_id)));
  }
  auto del_foreign = as_alice.del(path("/accounts/", bob.account_id));
  auto del_absent = as_alice.del(path("/accounts/", missing));
  CHECK(del_foreign.status == 404);
  CHECK(del_absent.status == 404);

  // Debit side: the same status, code and message as a missing account.
  const auto debit = [&](std::int64_t from, const std::string& key) {
    return as_alice.post("/transfers", {{"from_account_id", from}, {"to_account_id", alice.account_id}, {"amount", 1}},
                         {{"Idempotency-Key", key}});
  };
  auto foreign = debit(bob.account_id, "e1");
  auto absent = debit(missing, "e2");
  CHECK(foreign.status == 404);
  CHECK(foreign.error_code() == "account_not_found");
  auto expected = answer(absent);
  expected.replace(expected.find(id_text(missing)), id_text(missing).size(), id_text(bob.account_id));
  CHECK(answer(foreign) == expected);
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1", {id_text(bob.account_id)}) == 1000);
  // The same in a batch: the item of bob's account reads as the missing one's.
  const auto batch_item = [&](std::int64_t from, const std::string& key) {
    return nlohmann::json{{"from_account_id", from}, {"to_account_id", alice.account_id}, {"amount", 1},
                          {"idempotency_key", key}};
  };
  auto batch = as_alice.post("/transfers/batch", {{"transfers", {batch_item(bob.account_id, "e3"), batch_item(missing, "e4")}}});
  REQUIRE(batch.status == 200);
  auto batch_foreign = batch.json()["results"][0].dump();
  const auto batch_absent = batch.json()["results"][1].dump();
  CHECK(batch.json()["results"][0]["status"] == 404);
  CHECK(batch_foreign.replace(batch_foreign.find(id_text(bob.account_id)), id_text(bob.account_id).size(),
                              id_text(missing)) == batch_absent);
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1", {id_text(bob.account_id)}) == 1000);

  // A transfer between others: as missing as one that never was.
  auto paid = server.client(bob.api_key).post("/transfers", {{"from_account_id", bob.account_id}, {"to_account_id", op.post("/accounts", {{"currency", "EUR"}, {"user_id", bob.user_id}}).json()["id"]}, {"amount", 5}}, {{"Idempotency-Key", "bob-own"}});
  REQUIRE(paid.status == 201);
  const auto theirs = paid.json()["id"].get<std::int64_t>();
  auto t_foreign = as_alice.get(path("/transfers/", theirs));
  auto t_absent = as_alice.get(path("/transfers/", theirs + 1000));
  CHECK(t_foreign.status == 404);
  CHECK(t_absent.status == 404);
  CHECK(t_foreign.json()["error"]["code"] == t_absent.json()["error"]["code"]);

  SECTION("the credited side does tell: existence, closed or not, currency (docs/security.md)") {
    auto to_missing = as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", missing}, {"amount", 1}},
                                    {{"Idempotency-Key", "c1"}});
    CHECK(to_missing.status == 404);
    CHECK(to_missing.error_code() == "account_not_found");
    auto to_bob = as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 1}},
                                {{"Idempotency-Key", "c2"}});
    CHECK(to_bob.status == 201);
    auto usd = test::create_funded_account(op, "USD", 0);
    auto to_usd = as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", usd.account_id}, {"amount", 1}},
                                {{"Idempotency-Key", "c3"}});
    CHECK(to_usd.error_code() == "currency_mismatch");
  }
}

TEST_CASE("POST /users and POST /accounts with an Idempotency-Key make one resource, and never show a key twice") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  const json ada{{"name", "Ada"}, {"email", "ada@example.com"}};

  auto first = op.post("/users", ada, {{"Idempotency-Key", "u-1"}});
  REQUIRE(first.status == 201);
  CHECK(first.json()["api_key"].is_string());
  CHECK(first.header("idempotent-replayed").empty());
  const auto id = first.json()["id"].get<std::int64_t>();

  auto again = op.post("/users", ada, {{"Idempotency-Key", "u-1"}});
  REQUIRE(again.status == 201);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(again.json()["id"] == id);
  CHECK(again.header("location") == path("/users/", id));
  CHECK_FALSE(again.json().contains("api_key"));
  CHECK(again.json()["api_keys"] == path("/users/", id, "/api-keys"));

  auto other = op.post("/users", {{"name", "Ada"}, {"email", "ada2@example.com"}}, {{"Idempotency-Key", "u-1"}});
  CHECK(other.status == 422);
  CHECK(other.error_code() == "idempotency_key_reused");
  CHECK(op.post("/users", ada).error_code() == "email_taken");  // without a key, as before
  CHECK(op.post("/users", ada, {{"Idempotency-Key", "u-2"}}).error_code() == "email_taken");
  CHECK(op.post("/users", ada, {{"Idempotency-Key", "bad key"}}).status == 422);

  // The same key names another operation's request independently.
  const json eur{{"currency", "EUR"}, {"user_id", id}};
  auto account = op.post("/accounts", eur, {{"Idempotency-Key", "u-1"}});
  REQUIRE(account.status == 201);
  auto replay = op.post("/accounts", eur, {{"Idempotency-Key", "u-1"}});
  REQUIRE(replay.status == 201);
  CHECK(replay.header("idempotent-replayed") == "true");
  CHECK(replay.json()["id"] == account.json()["id"]);
  CHECK(op.post("/accounts", {{"currency", "USD"}, {"user_id", id}}, {{"Idempotency-Key", "u-1"}}).error_code() ==
        "idempotency_key_reused");
  // A user's own key scope is its own: the same key string is a new request.
  auto as_ada = server.client(first.json()["api_key"].get<std::string>());
  auto own = as_ada.post("/accounts", {{"currency", "EUR"}}, {{"Idempotency-Key", "u-1"}});
  CHECK(own.status == 201);
  CHECK(own.header("idempotent-replayed").empty());

  test::pg_session sql(db.conninfo());
  CHECK(sql.scalar_int("SELECT count(*) FROM users WHERE lower(email) = 'ada@example.com'") == 1);
  CHECK(sql.scalar_int("SELECT count(*) FROM accounts WHERE user_id = $1", {std::to_string(id)}) == 2);
}

TEST_CASE("accounts per user are capped, and only allowed currencies open, with their exponent shown") {
  test::scratch_database db;
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.max_accounts_per_user = 3;
  cfg.currencies = "EUR:2,JPY:0";
  test::bankd_server server(cfg);
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);

  auto yen = as_alice.post("/accounts", {{"currency", "JPY"}});
  REQUIRE(yen.status == 201);
  CHECK(yen.json()["currency_exponent"] == 0);
  CHECK(as_alice.get(path("/accounts/", alice.account_id)).json()["currency_exponent"] == 2);
  auto dollars = as_alice.post("/accounts", {{"currency", "USD"}});
  CHECK(dollars.status == 422);
  CHECK(dollars.error_code() == "validation_failed");
  test::pg_session sql(db.conninfo());
  CHECK(sql.scalar_int("SELECT count(*) FROM accounts WHERE currency = 'USD'") == 0);  // no funding account either

  const auto third = as_alice.post("/accounts", {{"currency", "EUR"}});
  REQUIRE(third.status == 201);
  auto fourth = as_alice.post("/accounts", {{"currency", "EUR"}});
  CHECK(fourth.status == 409);
  CHECK(fourth.error_code() == "limit_reached");
  REQUIRE(as_alice.del(path("/accounts/", third.json()["id"].get<std::int64_t>())).status == 204);
  CHECK(as_alice.post("/accounts", {{"currency", "EUR"}}).status == 201);  // closed ones do not count
}

TEST_CASE("a user's accounts page beyond 1,000, and an exactly full last page says there is no next") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  test::pg_session sql(db.conninfo());
  sql.query("INSERT INTO accounts (user_id, currency, closed_at) SELECT $1, 'EUR', now() FROM generate_series(1, 1199)",
            {std::to_string(alice.user_id)});

  std::vector<std::int64_t> seen;
  std::string target = path("/users/", alice.user_id, "/accounts");
  for (int page = 0; page < 5; ++page) {
    auto r = op.get(target);
    REQUIRE(r.status == 200);
    const auto body = r.json();
    for (const auto& a : body["accounts"]) seen.push_back(a["id"].get<std::int64_t>());
    if (body["next_after"].is_null()) break;
    target = path("/users/", alice.user_id, "/accounts?after=") + std::to_string(body["next_after"].get<std::int64_t>());
  }
  REQUIRE(seen.size() == 1200);
  CHECK(std::adjacent_find(seen.begin(), seen.end(), std::greater_equal<>()) == seen.end());
  auto exact = op.get(path("/users/", alice.user_id, "/accounts?limit=600&after=") + std::to_string(seen[599]));
  REQUIRE(exact.status == 200);
  CHECK(exact.json()["accounts"].size() == 600);
  CHECK(exact.json()["next_after"].is_null());
  CHECK(op.get(path("/users/", alice.user_id, "/accounts?limit=1001")).status == 422);

  // History: 3 rows (the deposit and two transfers), pages of 3 and of 1.
  auto bob = test::create_funded_account(op, "EUR", 10);
  for (const char* k : {"p1", "p2"})
    REQUIRE(server.client(bob.api_key).post("/transfers", {{"from_account_id", bob.account_id}, {"to_account_id", alice.account_id}, {"amount", 1}},
                                            {{"Idempotency-Key", k}}).status == 201);
  auto full = op.get(path("/accounts/", bob.account_id, "/transfers?limit=3"));
  REQUIRE(full.status == 200);
  CHECK(full.json()["transfers"].size() == 3);
  CHECK(full.json()["next_before"].is_null());
  auto first = op.get(path("/accounts/", bob.account_id, "/transfers?limit=2"));
  REQUIRE(first.json()["next_before"].is_number());
  auto last = op.get(path("/accounts/", bob.account_id, "/transfers?limit=1&before=") +
                     std::to_string(first.json()["next_before"].get<std::int64_t>()));
  CHECK(last.json()["transfers"].size() == 1);
  CHECK(last.json()["next_before"].is_null());
}
