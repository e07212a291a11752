// The HTTP API end to end: a real bankd service (in this process) on a real
// PostgreSQL, driven through HTTP.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using test::http_client;
using nlohmann::json;

namespace {

std::map<std::string, std::string> key(const std::string& k) { return {{"Idempotency-Key", k}}; }

std::string path(const char* prefix, std::int64_t id, const char* suffix = "") {
  return std::string(prefix) + std::to_string(id) + suffix;
}

}  // namespace

TEST_CASE("health, readiness and metrics answer") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto client = server.client();
  CHECK(client.get("/healthz").status == 200);
  CHECK(client.get("/readyz").status == 200);
  auto metrics = client.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("bankd_http_requests_total") != std::string::npos);
  CHECK(metrics.body.find("bankd_db_pool_connections") != std::string::npos);
}

TEST_CASE("unknown paths are 404 and wrong methods 405, as JSON") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto client = server.client();
  auto missing = client.get("/nope");
  CHECK(missing.status == 404);
  CHECK(missing.error_code() == "not_found");
  auto wrong = client.request("PUT", "/healthz");
  CHECK(wrong.status == 405);
  CHECK(wrong.header("allow") == "GET");
  CHECK(wrong.error_code() == "method_not_allowed");
}

TEST_CASE("users: created by the operator with a key shown once, readable by themselves") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto created = op.post("/users", {{"name", "Ada"}, {"email", "ada@example.com"}});
  REQUIRE(created.status == 201);
  const auto user = created.json();
  const auto id = user["id"].get<std::int64_t>();
  const auto api_key = user["api_key"].get<std::string>();
  CHECK(api_key.rfind("bk_", 0) == 0);

  test::pg_session check(db.conninfo());
  const auto stored = check.scalar("SELECT key_sha256 FROM api_keys WHERE user_id = $1", {std::to_string(id)});
  CHECK(stored != api_key);
  CHECK(stored.size() == 64);

  auto self = server.client(api_key);
  auto read = self.get(path("/users/", id));
  REQUIRE(read.status == 200);
  CHECK(read.json()["email"] == "ada@example.com");
  CHECK_FALSE(read.json().contains("api_key"));

  SECTION("duplicate email, any case, is a conflict") {
    auto dup = op.post("/users", {{"name", "Ada 2"}, {"email", "ADA@example.com"}});
    CHECK(dup.status == 409);
    CHECK(dup.error_code() == "email_taken");
  }
  SECTION("a user cannot create users") {
    CHECK(self.post("/users", {{"name", "x"}, {"email", "x@example.com"}}).status == 403);
  }
  SECTION("without or with a bad key: 401") {
    auto anon = server.client();
    auto r = anon.get(path("/users/", id));
    CHECK(r.status == 401);
    CHECK(r.header("www-authenticate") == "Bearer");
    CHECK(server.client("bk_wrong").get(path("/users/", id)).status == 401);
  }
  SECTION("rename and change email") {
    auto renamed = self.patch(path("/users/", id), {{"name", "Ada L."}});
    REQUIRE(renamed.status == 200);
    CHECK(renamed.json()["name"] == "Ada L.");
    CHECK(self.patch(path("/users/", id), json::object()).status == 422);
    CHECK(self.patch(path("/users/", id), {{"email", "not-an-email"}}).status == 422);
  }
  SECTION("validation") {
    CHECK(op.post("/users", {{"name", ""}, {"email", "e@example.com"}}).status == 422);
    CHECK(op.post("/users", {{"name", "n"}}).status == 422);
    CHECK(op.post("/users", {{"name", "n"}, {"email", "e@example.com"}, {"admin", true}}).status == 422);
    CHECK(op.request("POST", "/users", "{\"name\":", {{"Content-Type", "application/json"}}).status == 400);
  }
}

TEST_CASE("accounts: opened for yourself, read by the owner only, closed when empty") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);

  auto opened = as_alice.post("/accounts", {{"currency", "USD"}});
  REQUIRE(opened.status == 201);
  const auto usd = opened.json()["id"].get<std::int64_t>();
  CHECK(opened.json()["balance"] == 0);
  CHECK(opened.json()["user_id"] == alice.user_id);

  CHECK(as_alice.get(path("/accounts/", usd)).status == 200);
  CHECK(server.client(bob.api_key).get(path("/accounts/", usd)).status == 404);  // another's: as if missing
  CHECK(op.get(path("/accounts/", usd)).status == 200);
  CHECK(as_alice.get("/accounts/999999").status == 404);
  CHECK(as_alice.get("/accounts/abc").status == 404);
  CHECK(as_alice.post("/accounts", {{"currency", "eur"}}).status == 422);
  CHECK(as_alice.post("/accounts", {{"currency", "EUR"}, {"user_id", bob.user_id}}).status == 403);

  auto list = as_alice.get(path("/users/", alice.user_id, "/accounts"));
  REQUIRE(list.status == 200);
  CHECK(list.json()["accounts"].size() == 2);

  CHECK(as_alice.del(path("/accounts/", usd)).status == 204);
  CHECK(as_alice.get(path("/accounts/", usd)).json()["status"] == "closed");
}

TEST_CASE("deposits are operator-only and keep every currency summing to zero") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 5000);
  auto as_alice = server.client(alice.api_key);

  CHECK(as_alice.post(path("/accounts/", alice.account_id, "/deposits"), {{"amount", 1}}, key("self")).status == 403);
  CHECK(as_alice.get(path("/accounts/", alice.account_id)).json()["balance"] == 5000);

  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT sum(balance) FROM accounts WHERE currency = 'EUR'") == 0);
  CHECK(check.scalar_int("SELECT balance FROM accounts WHERE kind = 'funding' AND currency = 'EUR'") == -5000);
}

TEST_CASE("transfers move money once and refusals write nothing") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 1000);
  auto bob = test::create_funded_account(op, "EUR", 0);
  auto carol_usd = test::create_funded_account(op, "USD", 100);
  auto as_alice = server.client(alice.api_key);
  test::pg_session check(db.conninfo());
  const auto ledger = [&] { return check.scalar_int("SELECT count(*) FROM transfers"); };
  const auto balance = [&](std::int64_t account) {
    return check.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(account)});
  };
  const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 250},
                  {"reference", "rent"}};

  auto sent = as_alice.post("/transfers", body, key("t-1"));
  REQUIRE(sent.status == 201);
  const auto transfer = sent.json();
  CHECK(transfer["amount"] == 250);
  CHECK(transfer["currency"] == "EUR");
  CHECK(transfer["reference"] == "rent");
  CHECK(balance(alice.account_id) == 750);
  CHECK(balance(bob.account_id) == 250);
  const auto rows = ledger();

  SECTION("the same key and body replays the original transfer") {
    auto again = as_alice.post("/transfers", body, key("t-1"));
    REQUIRE(again.status == 201);
    CHECK(again.header("idempotent-replayed") == "true");
    CHECK(again.json()["id"] == transfer["id"]);
    CHECK(balance(alice.account_id) == 750);
    CHECK(ledger() == rows);
  }
  SECTION("the same key with another body is refused") {
    auto changed = body;
    changed["amount"] = 251;
    auto reused = as_alice.post("/transfers", changed, key("t-1"));
    CHECK(reused.status == 422);
    CHECK(reused.error_code() == "idempotency_key_reused");
    CHECK(ledger() == rows);
  }
  SECTION("refusals") {
    auto refuse = [&](json b, const std::string& k) { return as_alice.post("/transfers", b, key(k)); };
    auto too_much = refuse({{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 751}}, "r1");
    CHECK(too_much.status == 409);
    CHECK(too_much.error_code() == "insufficient_funds");
    auto unknown = refuse({{"from_account_id", alice.account_id}, {"to_account_id", 999999}, {"amount", 1}}, "r2");
    CHECK(unknown.status == 404);
    auto currency = refuse({{"from_account_id", alice.account_id}, {"to_account_id", carol_usd.account_id}, {"amount", 1}}, "r3");
    CHECK(currency.status == 422);
    CHECK(currency.error_code() == "currency_mismatch");
    auto not_mine = refuse({{"from_account_id", bob.account_id}, {"to_account_id", alice.account_id}, {"amount", 1}}, "r4");
    CHECK(not_mine.status == 404);  // debiting another's account: as if it did not exist
    CHECK(not_mine.error_code() == "account_not_found");
    auto self = refuse({{"from_account_id", alice.account_id}, {"to_account_id", alice.account_id}, {"amount", 1}}, "r5");
    CHECK(self.status == 422);
    for (const json& amount : {json(0), json(-5), json(1.5), json("10"), json(9007199254740993ULL)}) {
      auto bad = refuse({{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", amount}}, "r6");
      CHECK(bad.status == 422);
    }
    auto no_key = as_alice.post("/transfers", body);
    CHECK(no_key.status == 400);
    CHECK(no_key.error_code() == "idempotency_key_required");
    CHECK(ledger() == rows);
    CHECK(balance(alice.account_id) == 750);
    // A refused request is evaluated afresh when replayed.
    auto later = refuse({{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 751}}, "r1");
    CHECK(later.status == 409);
  }
  SECTION("reading transfers and history") {
    const auto id = transfer["id"].get<std::int64_t>();
    CHECK(as_alice.get(path("/transfers/", id)).status == 200);
    CHECK(server.client(bob.api_key).get(path("/transfers/", id)).status == 200);
    CHECK(server.client(carol_usd.api_key).get(path("/transfers/", id)).status == 404);
    for (int i = 0; i < 5; ++i)
      REQUIRE(as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 1}},
                            key("h" + std::to_string(i))).status == 201);
    auto page1 = as_alice.get(path("/accounts/", alice.account_id, "/transfers?limit=3"));
    REQUIRE(page1.status == 200);
    const auto items = page1.json()["transfers"];
    REQUIRE(items.size() == 3);
    CHECK(items[0]["id"].get<std::int64_t>() > items[1]["id"].get<std::int64_t>());
    CHECK(items[0]["direction"] == "debit");
    CHECK(items[0]["counterparty"]["account_id"] == bob.account_id);
    const auto next = page1.json()["next_before"].get<std::int64_t>();
    auto page2 = as_alice.get(path("/accounts/", alice.account_id, "/transfers?limit=3&before=") + std::to_string(next));
    REQUIRE(page2.status == 200);
    // 5 small transfers + rent + the deposit = 7 rows: 3 + 3 + 1.
    CHECK(page2.json()["transfers"].size() == 3);
    CHECK(page2.json()["transfers"][0]["id"].get<std::int64_t>() < next);
    CHECK(as_alice.get(path("/accounts/", alice.account_id, "/transfers?limit=0")).status == 422);
    CHECK(server.client(bob.api_key).get(path("/accounts/", alice.account_id, "/transfers")).status == 404);
  }
}

TEST_CASE("users holding money cannot be deleted, empty ones can, and their key stops working") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto rich = test::create_funded_account(op, "EUR", 10);
  auto poor = test::create_funded_account(op, "EUR", 0);
  auto refused = server.client(rich.api_key).del(path("/users/", rich.user_id));
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "user_holds_money");
  CHECK(server.client(poor.api_key).del(path("/users/", poor.user_id)).status == 204);
  CHECK(op.get(path("/users/", poor.user_id)).status == 404);
  CHECK(op.get(path("/accounts/", poor.account_id)).json()["status"] == "closed");
}

TEST_CASE("the audit reads balances and per-currency totals in one snapshot") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto a = test::create_funded_account(op, "EUR", 300);
  auto b = test::create_funded_account(op, "EUR", 200);
  auto audit = op.post("/audit/balances", {{"account_ids", {a.account_id, b.account_id}}});
  REQUIRE(audit.status == 200);
  const auto body = audit.json();
  CHECK(body["accounts"].size() == 2);
  CHECK(body["accounts"][0]["balance"] == 300);
  REQUIRE(body["totals"].size() == 1);
  CHECK(body["totals"][0]["customer_total"] == 500);
  CHECK(body["totals"][0]["sum"] == 0);
  CHECK(server.client(a.api_key).post("/audit/balances", {{"account_ids", json::array()}}).status == 403);
}
