// Reversals through HTTP: money back from the receiver to the sender, in
// full or in parts that never add up to more than the original, by the
// receiver's owner or the operator, idempotent, and refused when the
// receiver no longer has the money or the original moved none.

#include "support/ledger_world.hpp"

using namespace bankd;
using nlohmann::json;
using test::key;

namespace {

std::int64_t pay(test::ledger_world& w, std::int64_t amount, const std::string& k) {
  auto r = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                          {"to_account_id", w.bob.account_id}, {"amount", amount}},
                           key(k));
  REQUIRE(r.status == 201);
  return r.json()["id"].get<std::int64_t>();
}

}  // namespace

TEST_CASE("a reversal gives everything not yet reversed back, linked to the original") {
  test::ledger_world w;
  const auto id = pay(w, 300, "t");
  auto back = w.settle(w.as_bob, id, "reverse", json::object(), "r");
  INFO(back.body);
  REQUIRE(back.status == 201);
  const auto r = back.json();
  CHECK(r["kind"] == "reverse");
  CHECK(r["reverses_transfer_id"] == id);
  CHECK(r["from_account_id"] == w.bob.account_id);
  CHECK(r["to_account_id"] == w.alice.account_id);
  CHECK(r["amount"] == 300);
  CHECK(back.header("location") == "/transfers/" + r["id"].dump());
  const auto original = w.transfer(id);
  CHECK(original["reversed_amount"] == 300);
  CHECK(original["reversals"] == json::array({r["id"]}));
  CHECK(w.account(w.alice.account_id)["balance"] == 1000);
  CHECK(w.account(w.bob.account_id)["balance"] == 0);

  SECTION("a replay answers the same reversal; nothing is left for another") {
    auto again = w.settle(w.as_bob, id, "reverse", json::object(), "r");
    CHECK(again.status == 201);
    CHECK(again.header("idempotent-replayed") == "true");
    CHECK(again.json()["id"] == r["id"]);
    auto more = w.settle(w.as_bob, id, "reverse", json::object(), "r-2");
    CHECK(more.status == 409);
    CHECK(more.error_code() == "reversal_exceeds_remainder");
  }
  SECTION("a reversal itself cannot be reversed") {
    auto twice = w.settle(w.op, r["id"].get<std::int64_t>(), "reverse", json::object(), "rr");
    CHECK(twice.status == 409);
    CHECK(twice.error_code() == "transfer_not_reversible");
  }
}

TEST_CASE("partial reversals add up to at most the original, beyond the remainder is 409") {
  test::ledger_world w;
  const auto id = pay(w, 500, "t");
  CHECK(w.settle(w.as_bob, id, "reverse", {{"amount", 200}, {"reference", "refund 1"}}, "r-1").status == 201);
  CHECK(w.settle(w.op, id, "reverse", {{"amount", 250}}, "r-2").status == 201);
  auto beyond = w.settle(w.as_bob, id, "reverse", {{"amount", 51}}, "r-3");
  CHECK(beyond.status == 409);
  CHECK(beyond.error_code() == "reversal_exceeds_remainder");
  auto rest = w.settle(w.as_bob, id, "reverse", json::object(), "r-4");
  REQUIRE(rest.status == 201);
  CHECK(rest.json()["amount"] == 50);
  CHECK(w.transfer(id)["reversed_amount"] == 500);
  CHECK(w.transfer(id)["reversals"].size() == 3);
  CHECK(w.sql.scalar_int("SELECT sum(amount) FROM transfers WHERE reverses_transfer_id = $1",
                         {std::to_string(id)}) == 500);
  // The same key with another amount is another request.
  CHECK(w.settle(w.as_bob, id, "reverse", {{"amount", 200}}, "r-1").error_code() == "idempotency_key_reused");
}

TEST_CASE("only the receiver's owner or the operator may reverse") {
  test::ledger_world w;
  const auto id = pay(w, 100, "t");
  auto sender = w.settle(w.as_alice, id, "reverse", json::object(), "by-sender");
  CHECK(sender.status == 403);
  CHECK(sender.error_code() == "forbidden");
  auto other = test::create_funded_account(w.op, "EUR", 10);
  auto as_other = w.server->client(other.api_key);
  // Somebody on neither side may not even see the transfer: 404, as GET answers.
  auto by_other = w.settle(as_other, id, "reverse", json::object(), "by-other");
  CHECK(by_other.status == 404);
  CHECK(by_other.body == as_other.get("/transfers/" + std::to_string(id)).body);
  CHECK(w.settle(w.as_bob, 999999, "reverse", json::object(), "none").status == 404);
  CHECK(w.account(w.bob.account_id)["balance"] == 100);
}

TEST_CASE("a reversal the receiver cannot pay is 409 insufficient_funds") {
  test::ledger_world w;
  const auto id = pay(w, 400, "t");
  auto carol = test::create_funded_account(w.op, "EUR", 0);
  // Bob spends most of it, then holds some of the rest.
  REQUIRE(w.as_bob.post("/transfers", {{"from_account_id", w.bob.account_id}, {"to_account_id", carol.account_id},
                                       {"amount", 300}},
                        key("spend")).status == 201);
  auto broke = w.settle(w.as_bob, id, "reverse", json::object(), "r");
  CHECK(broke.status == 409);
  CHECK(broke.error_code() == "insufficient_funds");
  REQUIRE(w.as_bob.post("/transfers", {{"from_account_id", w.bob.account_id}, {"to_account_id", carol.account_id},
                                       {"amount", 60}, {"pending", true}},
                        key("hold")).status == 201);
  CHECK(w.settle(w.as_bob, id, "reverse", {{"amount", 41}}, "r-41").error_code() == "insufficient_funds");
  CHECK(w.settle(w.as_bob, id, "reverse", {{"amount", 40}}, "r-40").status == 201);
  CHECK(w.account(w.bob.account_id)["available"] == 0);
}

TEST_CASE("only what moved money can be reversed, a posted hold reverses its post") {
  test::ledger_world w;
  const auto open = w.hold(100, "h-1")["id"].get<std::int64_t>();
  auto pending = w.settle(w.as_bob, open, "reverse", json::object(), "r-open");
  CHECK(pending.status == 409);
  CHECK(pending.error_code() == "transfer_not_reversible");

  const auto voided = w.hold(100, "h-2")["id"].get<std::int64_t>();
  const auto void_row = w.settle(w.as_alice, voided, "void", json::object(), "v").json()["settled_by"];
  CHECK(w.settle(w.op, voided, "reverse", json::object(), "r-voided").error_code() == "transfer_not_reversible");
  CHECK(w.settle(w.op, void_row.get<std::int64_t>(), "reverse", json::object(), "r-void-row").error_code() ==
        "transfer_not_reversible");

  auto posted = w.settle(w.as_alice, open, "post", {{"amount", 70}}, "p").json();
  const auto post_id = posted["settled_by"].get<std::int64_t>();
  auto back = w.settle(w.as_bob, open, "reverse", {{"amount", 30}}, "r-posted");
  REQUIRE(back.status == 201);
  CHECK(back.json()["reverses_transfer_id"] == post_id);
  CHECK(w.transfer(post_id)["reversed_amount"] == 30);
  // Named by the post's id, the same reversal is a replay.
  CHECK(w.settle(w.as_bob, post_id, "reverse", {{"amount", 30}}, "r-posted").header("idempotent-replayed") == "true");
  CHECK(w.settle(w.as_bob, post_id, "reverse", {{"amount", 41}}, "r-posted-2").error_code() ==
        "reversal_exceeds_remainder");

  SECTION("a deposit goes back to the funding account") {
    const auto deposit =
        w.sql.scalar_int("SELECT id FROM transfers WHERE kind = 'deposit' AND to_account_id = $1",
                         {std::to_string(w.alice.account_id)});
    auto undo = w.settle(w.op, deposit, "reverse", {{"amount", 100}}, "r-deposit");
    REQUIRE(undo.status == 201);
    CHECK(undo.json()["to_account_id"] == w.transfer(deposit)["from_account_id"]);
  }
}
