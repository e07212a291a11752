// The transfer engine through HTTP: POST /transfers/batch with mixed,
// atomic and duplicate items, a batch hit by a serialization failure, and
// the idempotency scope of deposits against transfers.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using nlohmann::json;

namespace {

std::map<std::string, std::string> key(const std::string& k) { return {{"Idempotency-Key", k}}; }

json item(std::int64_t from, std::int64_t to, std::int64_t amount, const std::string& k) {
  return {{"from_account_id", from}, {"to_account_id", to}, {"amount", amount}, {"idempotency_key", k}};
}

// Every balance equals its ledger: credits minus debits.
std::int64_t balances_off_ledger(test::pg_session& db) {
  return db.scalar_int(R"sql(
SELECT count(*) FROM accounts a
 WHERE a.balance <> (SELECT coalesce(sum(CASE WHEN t.to_account_id = a.id THEN t.amount ELSE -t.amount END), 0)
                       FROM transfers t WHERE a.id IN (t.from_account_id, t.to_account_id)))sql");
}

std::int64_t balance(test::pg_session& db, std::int64_t account) {
  return db.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(account)});
}

struct bank_fixture {
  test::scratch_database db;
  test::bankd_server server{db.conninfo()};
  test::http_client op = server.operator_client();
  test::funded_account alice = test::create_funded_account(op, "EUR", 1000);
  test::funded_account bob = test::create_funded_account(op, "EUR", 0);
  test::funded_account carol = test::create_funded_account(op, "EUR", 500);
  test::http_client as_alice = server.client(alice.api_key);
  test::pg_session check{db.conninfo()};
};

}  // namespace

TEST_CASE("a mixed batch answers every item on its own, and refused items write nothing") {
  bank_fixture b;
  REQUIRE(b.as_alice.post("/transfers", {{"from_account_id", b.alice.account_id},
                                         {"to_account_id", b.bob.account_id}, {"amount", 10}},
                          key("earlier")).status == 201);
  const auto rows_before = b.check.scalar_int("SELECT count(*) FROM transfers");
  const json batch{{"transfers",
                    {item(b.alice.account_id, b.bob.account_id, 100, "ok-1"),
                     item(b.alice.account_id, b.bob.account_id, 5000, "too-much"),
                     item(b.alice.account_id, 999999, 1, "nowhere"),
                     item(b.carol.account_id, b.bob.account_id, 1, "not-mine"),
                     item(b.alice.account_id, b.bob.account_id, 10, "earlier"),
                     item(b.alice.account_id, b.bob.account_id, 11, "earlier"),
                     item(b.alice.account_id, b.bob.account_id, 200, "ok-2")}}};
  auto reply = b.as_alice.post("/transfers/batch", batch);
  REQUIRE(reply.status == 200);
  const auto results = reply.json()["results"];
  REQUIRE(results.size() == 7);
  CHECK(results[0]["status"] == 201);
  CHECK(results[0]["replayed"] == false);
  CHECK(results[1]["error"]["code"] == "insufficient_funds");
  CHECK(results[1]["status"] == 409);
  CHECK(results[2]["error"]["code"] == "account_not_found");
  CHECK(results[2]["status"] == 404);
  // Another user's account answers as a missing one (enumeration, issue 15).
  CHECK(results[3]["status"] == 404);
  CHECK(results[3]["error"]["code"] == "account_not_found");
  CHECK(results[3]["error"]["message"] == "account " + std::to_string(b.carol.account_id) + " does not exist");
  CHECK(results[4]["status"] == 201);
  CHECK(results[4]["replayed"] == true);
  CHECK(results[5]["error"]["code"] == "idempotency_key_reused");
  CHECK(results[6]["status"] == 201);
  CHECK(results[6]["transfer"]["amount"] == 200);

  CHECK(b.check.scalar_int("SELECT count(*) FROM transfers") == rows_before + 2);
  CHECK(balance(b.check, b.alice.account_id) == 1000 - 10 - 100 - 200);
  CHECK(balance(b.check, b.carol.account_id) == 500);
  CHECK(balances_off_ledger(b.check) == 0);
}

TEST_CASE("an atomic batch commits all or nothing, also when the failing item is the last") {
  bank_fixture b;
  const auto rows_before = b.check.scalar_int("SELECT count(*) FROM transfers");
  const json failing{{"atomic", true},
                     {"transfers",
                      {item(b.alice.account_id, b.bob.account_id, 300, "a-1"),
                       item(b.alice.account_id, b.carol.account_id, 300, "a-2"),
                       item(b.alice.account_id, b.bob.account_id, 900, "a-3")}}};
  auto reply = b.as_alice.post("/transfers/batch", failing);
  REQUIRE(reply.status == 200);
  const auto results = reply.json()["results"];
  CHECK(results[0]["error"]["code"] == "batch_failed");
  CHECK(results[1]["error"]["code"] == "batch_failed");
  CHECK(results[2]["error"]["code"] == "insufficient_funds");
  CHECK(b.check.scalar_int("SELECT count(*) FROM transfers") == rows_before);
  CHECK(balance(b.check, b.alice.account_id) == 1000);

  SECTION("the same batch within the funds commits whole") {
    json ok = failing;
    ok["transfers"][2]["amount"] = 400;
    auto done = b.as_alice.post("/transfers/batch", ok);
    REQUIRE(done.status == 200);
    for (const auto& r : json(done.json()["results"])) CHECK(r["status"] == 201);
    CHECK(balance(b.check, b.alice.account_id) == 0);
    // The keys were not taken by the failed attempt: the items are replays now.
    auto again = b.as_alice.post("/transfers/batch", ok);
    for (const auto& r : json(again.json()["results"])) CHECK(r["replayed"] == true);
  }
  SECTION("an item that cannot be valid fails the atomic batch before anything is sent") {
    json same{{"atomic", true},
              {"transfers", {item(b.alice.account_id, b.bob.account_id, 1, "s-1"),
                             item(b.alice.account_id, b.alice.account_id, 1, "s-2")}}};
    auto done = b.as_alice.post("/transfers/batch", same);
    REQUIRE(done.status == 200);
    CHECK(done.json()["results"][0]["error"]["code"] == "batch_failed");
    CHECK(done.json()["results"][1]["error"]["code"] == "same_account");
  }
  CHECK(balances_off_ledger(b.check) == 0);
}

TEST_CASE("the same key twice in one batch: the second is a replay of the first") {
  bank_fixture b;
  const json batch{{"transfers",
                    {item(b.alice.account_id, b.bob.account_id, 7, "twice"),
                     item(b.alice.account_id, b.bob.account_id, 7, "twice"),
                     item(b.alice.account_id, b.bob.account_id, 8, "twice")}}};
  auto reply = b.as_alice.post("/transfers/batch", batch);
  REQUIRE(reply.status == 200);
  const auto results = reply.json()["results"];
  CHECK(results[0]["status"] == 201);
  CHECK(results[1]["replayed"] == true);
  CHECK(results[1]["transfer"]["id"] == results[0]["transfer"]["id"]);
  CHECK(results[2]["error"]["code"] == "idempotency_key_reused");
  CHECK(b.check.scalar_int("SELECT count(*) FROM transfers WHERE idempotency_key = 'twice'") == 1);
  CHECK(balance(b.check, b.alice.account_id) == 993);
}

TEST_CASE("answers made from a batch's own rows are the transfers as GET shows them") {
  bank_fixture b;
  const auto same_as_get = [&](const json& shown) {
    INFO(shown.dump());
    auto got = b.op.get("/transfers/" + std::to_string(shown["id"].get<std::int64_t>()));
    REQUIRE(got.status == 200);
    CHECK(got.json() == shown);
  };
  auto with_meta = item(b.alice.account_id, b.bob.account_id, 25, "meta");
  with_meta["reference"] = "invoice 7";
  with_meta["metadata"] = {{"order", "A-1"}, {"note", "spaced  out"}};
  const json batch{{"transfers",
                    {with_meta, item(b.alice.account_id, 999999, 1, "nowhere"),
                     item(b.alice.account_id, b.bob.account_id, 3, "plain"), with_meta}}};
  auto reply = b.as_alice.post("/transfers/batch", batch);
  REQUIRE(reply.status == 200);
  const auto results = reply.json()["results"];
  REQUIRE(results.size() == 4);
  same_as_get(results[0]["transfer"]);
  CHECK(results[1]["status"] == 404);
  same_as_get(results[2]["transfer"]);
  CHECK(results[3]["replayed"] == true);
  same_as_get(results[3]["transfer"]);

  auto hold = b.as_alice.post("/transfers", {{"from_account_id", b.alice.account_id},
                                            {"to_account_id", b.bob.account_id}, {"amount", 40},
                                            {"pending", true}, {"timeout_seconds", 3600}},
                              key("hold"));
  REQUIRE(hold.status == 201);
  CHECK(hold.json()["status"] == "pending");
  CHECK(hold.json()["held_amount"] == 40);
  same_as_get(hold.json());
  auto deposit = b.op.post("/accounts/" + std::to_string(b.bob.account_id) + "/deposits", {{"amount", 9}},
                           key("dep"));
  REQUIRE(deposit.status == 201);
  same_as_get(deposit.json());
  // A replay of an older row answers through the ledger, as before.
  auto again = b.as_alice.post("/transfers", {{"from_account_id", b.alice.account_id},
                                             {"to_account_id", b.bob.account_id}, {"amount", 40},
                                             {"pending", true}, {"timeout_seconds", 3600}},
                               key("hold"));
  REQUIRE(again.status == 201);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(again.json() == hold.json());
}

TEST_CASE("a batch hit by a serialization failure runs again and is applied once") {
  bank_fixture b;
  // The first ledger insert after this raises 40001; nextval is not rolled
  // back with the failed attempt, so the retry passes.
  b.check.exec(R"sql(
CREATE SEQUENCE fail_once;
CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('fail_once') = 1 THEN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fail_once AFTER INSERT ON transfers FOR EACH STATEMENT EXECUTE FUNCTION fail_once();)sql");
  auto reply = b.as_alice.post("/transfers/batch", {{"transfers", {item(b.alice.account_id, b.bob.account_id, 25, "once")}}});
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["results"][0]["status"] == 201);
  CHECK(b.check.scalar_int("SELECT last_value FROM fail_once") == 2);  // two attempts
  CHECK(b.check.scalar_int("SELECT count(*) FROM transfers WHERE idempotency_key = 'once'") == 1);
  CHECK(balance(b.check, b.bob.account_id) == 25);
}

TEST_CASE("a deposit never replays an operator transfer that used its key") {
  bank_fixture b;
  auto transfer = b.op.post("/transfers", {{"from_account_id", b.carol.account_id},
                                           {"to_account_id", b.bob.account_id}, {"amount", 100}},
                            key("K"));
  REQUIRE(transfer.status == 201);
  auto deposit = b.op.post("/accounts/" + std::to_string(b.bob.account_id) + "/deposits", {{"amount", 100}}, key("K"));
  CHECK(deposit.status == 422);
  CHECK(deposit.error_code() == "idempotency_key_reused");
  CHECK(balance(b.check, b.bob.account_id) == 100);  // the transfer only; nothing acknowledged that did not happen

  auto fresh = b.op.post("/accounts/" + std::to_string(b.bob.account_id) + "/deposits", {{"amount", 100}}, key("K2"));
  REQUIRE(fresh.status == 201);
  auto replay = b.op.post("/accounts/" + std::to_string(b.bob.account_id) + "/deposits", {{"amount", 100}}, key("K2"));
  CHECK(replay.status == 201);
  CHECK(replay.header("idempotent-replayed") == "true");
  // And the other way round: a transfer with a deposit's key.
  auto back = b.op.post("/transfers", {{"from_account_id", b.carol.account_id},
                                       {"to_account_id", b.bob.account_id}, {"amount", 100}},
                        key("K2"));
  CHECK(back.error_code() == "idempotency_key_reused");
  CHECK(balance(b.check, b.bob.account_id) == 200);
}

TEST_CASE("malformed batches are refused whole, naming the item and the field") {
  bank_fixture b;
  auto bad_amount = b.as_alice.post("/transfers/batch",
      {{"transfers", {item(b.alice.account_id, b.bob.account_id, 1, "m-1"),
                      item(b.alice.account_id, b.bob.account_id, -5, "m-2")}}});
  CHECK(bad_amount.status == 422);
  CHECK(bad_amount.json()["error"]["message"].get<std::string>().rfind("transfers[1].amount:", 0) == 0);
  auto no_key = b.as_alice.post("/transfers/batch",
      {{"transfers", {{{"from_account_id", b.alice.account_id}, {"to_account_id", b.bob.account_id}, {"amount", 1}}}}});
  CHECK(no_key.status == 422);
  CHECK(no_key.json()["error"]["message"].get<std::string>().rfind("transfers[0].idempotency_key:", 0) == 0);
  auto unknown = b.as_alice.post("/transfers/batch", {{"transfers", json::array()}, {"atomc", true}});
  CHECK(unknown.status == 422);
  CHECK(b.as_alice.post("/transfers/batch", {{"transfers", json::array()}}).status == 422);
  json too_many{{"transfers", json::array()}};
  for (int i = 0; i < 1001; ++i) too_many["transfers"].push_back(item(b.alice.account_id, b.bob.account_id, 1, "t" + std::to_string(i)));
  CHECK(b.as_alice.post("/transfers/batch", too_many).status == 422);
  CHECK(b.check.scalar_int("SELECT count(*) FROM transfers WHERE initiated_by <> 0") == 0);

  SECTION("1,000 items fit the batch body limit, far past the 64 KiB of other endpoints") {
    json full{{"transfers", json::array()}};
    for (int i = 0; i < 1000; ++i)
      full["transfers"].push_back(item(b.alice.account_id, b.bob.account_id, 1, "full-" + std::to_string(i)));
    REQUIRE(full.dump().size() > 64 * 1024);
    auto done = b.as_alice.post("/transfers/batch", full);
    REQUIRE(done.status == 200);
    CHECK(done.json()["results"].size() == 1000);
    for (const auto& r : json(done.json()["results"])) CHECK(r["status"] == 201);
    CHECK(balance(b.check, b.alice.account_id) == 0);
  }
}

TEST_CASE("the ledger refuses rows naming missing accounts or another currency, accounts are never deleted") {
  bank_fixture b;
  const auto usd = b.op.post("/accounts", {{"currency", "USD"}, {"user_id", b.alice.user_id}}).json()["id"].get<std::int64_t>();
  const auto insert = [&](std::int64_t from, std::int64_t to) {
    return b.check.error_state(
        "INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, "
        "                       from_balance_after, from_held_after, to_balance_after, to_held_after) "
        "VALUES ($1::bigint, $2::bigint, 'EUR', 1, 0, 'raw-' || $1 || '-' || $2, 0, 0, 0, 0)",
        {std::to_string(from), std::to_string(to)});
  };
  CHECK(insert(b.alice.account_id, usd) == "23503");     // the credited account holds USD
  CHECK(insert(b.alice.account_id, 999999) == "23503");  // no such account
  CHECK(insert(b.alice.account_id, b.bob.account_id).empty());
  CHECK(b.check.error_state("DELETE FROM accounts WHERE id = $1", {std::to_string(usd)}) == "23001");
  CHECK(b.check.error_state("UPDATE accounts SET currency = 'GBP' WHERE id = $1", {std::to_string(usd)}) == "23001");
}
