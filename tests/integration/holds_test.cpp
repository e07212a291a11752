// Two-phase transfers through HTTP: a hold reserves money, a post moves it
// (all or part), a void releases it, and a deadline expires it; each status
// path, the idempotency of post and void, who may settle, and batches.

#include "support/ledger_world.hpp"

#include <chrono>
#include <thread>

using namespace bankd;
using nlohmann::json;
using test::key;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t sweeper_lock = 7089068695979193207;  // bank::sweeper_params::lock_key

}  // namespace

TEST_CASE("a hold reserves the amount: held rises, available falls, the balance stays") {
  test::ledger_world w;
  const auto pending = w.hold(300, "h-1", 3600);
  CHECK(pending["kind"] == "pending");
  CHECK(pending["status"] == "pending");
  CHECK(pending["held_amount"] == 300);
  CHECK(pending.contains("expires_at"));
  const auto a = w.account(w.alice.account_id);
  CHECK(a["balance"] == 1000);
  CHECK(a["held"] == 300);
  CHECK(a["available"] == 700);
  CHECK(w.account(w.bob.account_id)["balance"] == 0);

  SECTION("a hold beyond what is available is 409 insufficient_funds, and holds nothing") {
    auto more = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                               {"to_account_id", w.bob.account_id}, {"amount", 701},
                                               {"pending", true}},
                                key("h-2"));
    CHECK(more.status == 409);
    CHECK(more.error_code() == "insufficient_funds");
    CHECK(w.account(w.alice.account_id)["held"] == 300);
    // A plain transfer may not spend the held money either.
    auto spend = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                                {"to_account_id", w.bob.account_id}, {"amount", 701}},
                                 key("t-1"));
    CHECK(spend.error_code() == "insufficient_funds");
    CHECK(w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                         {"to_account_id", w.bob.account_id}, {"amount", 700}},
                          key("t-2")).status == 201);
    CHECK(w.account(w.alice.account_id)["available"] == 0);
  }
  SECTION("timeout_seconds is 1 s to 30 days, and only for holds") {
    for (const json& bad : {json(0), json(2592001), json("10"), json(1.5)}) {
      auto r = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                              {"to_account_id", w.bob.account_id}, {"amount", 1},
                                              {"pending", true}, {"timeout_seconds", bad}},
                               key("bad-timeout"));
      CHECK(r.status == 422);
    }
    auto plain = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                                {"to_account_id", w.bob.account_id}, {"amount", 1},
                                                {"timeout_seconds", 60}},
                                 key("not-a-hold"));
    CHECK(plain.status == 422);
    CHECK(w.hold(1, "max-timeout", 2592000)["status"] == "pending");
  }
}

TEST_CASE("a post moves the money, a partial post releases the rest of the hold") {
  test::ledger_world w;
  const auto id = w.hold(300, "h")["id"].get<std::int64_t>();

  SECTION("all of it") {
    auto done = w.settle(w.as_alice, id, "post", json::object(), "p");
    INFO(done.body);
    REQUIRE(done.status == 200);
    CHECK(done.json()["id"] == id);
    CHECK(done.json()["status"] == "posted");
    CHECK(done.json()["posted_amount"] == 300);
    CHECK(done.json()["held_amount"] == 0);
    CHECK(w.account(w.alice.account_id)["balance"] == 700);
    CHECK(w.account(w.bob.account_id)["balance"] == 300);
  }
  SECTION("part of it") {
    auto done = w.settle(w.as_alice, id, "post", {{"amount", 120}}, "p");
    REQUIRE(done.status == 200);
    CHECK(done.json()["posted_amount"] == 120);
    const auto a = w.account(w.alice.account_id);
    CHECK(a["balance"] == 880);
    CHECK(a["held"] == 0);
    CHECK(a["available"] == 880);
    CHECK(w.account(w.bob.account_id)["balance"] == 120);
    // The post row references the hold and moved what was posted.
    const auto post = w.transfer(done.json()["settled_by"].get<std::int64_t>());
    CHECK(post["kind"] == "post");
    CHECK(post["pending_id"] == id);
    CHECK(post["amount"] == 120);
  }
  SECTION("more than the hold is 422 amount_exceeds_pending, and nothing moves") {
    auto done = w.settle(w.as_alice, id, "post", {{"amount", 301}}, "p");
    CHECK(done.status == 422);
    CHECK(done.error_code() == "amount_exceeds_pending");
    CHECK(w.account(w.alice.account_id)["held"] == 300);
  }
}

TEST_CASE("once settled, a hold is not pending: a second post, post after void, void after post are 409") {
  test::ledger_world w;
  const auto posted = w.hold(100, "h-1")["id"].get<std::int64_t>();
  const auto voided = w.hold(200, "h-2")["id"].get<std::int64_t>();
  REQUIRE(w.settle(w.as_alice, posted, "post", json::object(), "p-1").status == 200);
  auto v = w.settle(w.as_alice, voided, "void", json::object(), "v-1");
  REQUIRE(v.status == 200);
  CHECK(v.json()["status"] == "voided");
  CHECK(v.json()["held_amount"] == 0);
  CHECK_FALSE(v.json().contains("posted_amount"));
  CHECK(w.account(w.alice.account_id)["held"] == 0);
  CHECK(w.account(w.alice.account_id)["balance"] == 900);

  for (const auto& [id, what] : {std::pair{posted, "post"}, std::pair{posted, "void"}, std::pair{voided, "post"},
                                 std::pair{voided, "void"}}) {
    auto again = w.settle(w.as_alice, id, what, json::object(), std::string("again-") + what + std::to_string(id));
    INFO(what << " of " << id << ": " << again.body);
    CHECK(again.status == 409);
    CHECK(again.error_code() == "transfer_not_pending");
  }
  // A transfer that is not a hold is not pending either.
  auto plain = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                              {"to_account_id", w.bob.account_id}, {"amount", 1}},
                               key("plain"));
  CHECK(w.settle(w.as_alice, plain.json()["id"].get<std::int64_t>(), "void", json::object(), "v-plain")
            .error_code() == "transfer_not_pending");
  CHECK(w.sql.scalar_int("SELECT count(*) FROM transfers WHERE pending_id IS NOT NULL") == 2);
}

TEST_CASE("post and void need an Idempotency-Key, a replay answers as the first call did") {
  test::ledger_world w;
  const auto id = w.hold(300, "h")["id"].get<std::int64_t>();
  auto no_key = w.as_alice.post("/transfers/" + std::to_string(id) + "/post", json::object());
  CHECK(no_key.status == 400);
  CHECK(no_key.error_code() == "idempotency_key_required");
  // No body at all is an empty one.
  auto first = w.as_alice.request("POST", "/transfers/" + std::to_string(id) + "/post", "", key("p"));
  REQUIRE(first.status == 200);
  auto replay = w.settle(w.as_alice, id, "post", json::object(), "p");
  CHECK(replay.status == 200);
  CHECK(replay.header("idempotent-replayed") == "true");
  CHECK(replay.json()["posted_amount"] == 300);
  // The amount it had is the same request; another one, or a void, is not.
  CHECK(w.settle(w.as_alice, id, "post", {{"amount", 300}}, "p").status == 200);
  CHECK(w.settle(w.as_alice, id, "post", {{"amount", 299}}, "p").error_code() == "idempotency_key_reused");
  CHECK(w.settle(w.as_alice, id, "void", json::object(), "p").error_code() == "idempotency_key_reused");
  CHECK(w.account(w.bob.account_id)["balance"] == 300);  // money moved once
  CHECK(w.sql.scalar_int("SELECT count(*) FROM transfers WHERE kind = 'post'") == 1);
}

TEST_CASE("only the debited account's owner or the operator may post or void") {
  test::ledger_world w;
  const auto a = w.hold(100, "h-a")["id"].get<std::int64_t>();
  const auto b = w.hold(100, "h-b")["id"].get<std::int64_t>();
  for (const auto* what : {"post", "void"}) {
    auto receiver = w.settle(w.as_bob, a, what, json::object(), std::string("bob-") + what);
    CHECK(receiver.status == 403);
    CHECK(receiver.error_code() == "forbidden");
  }
  // The same in a batch, item by item.
  auto batch = w.as_bob.post("/transfers/batch", {{"transfers", {{{"action", "void"}, {"transfer_id", a},
                                                                  {"idempotency_key", "bob-batch"}}}}});
  REQUIRE(batch.status == 200);
  CHECK(batch.json()["results"][0]["status"] == 403);
  CHECK(w.settle(w.op, a, "post", json::object(), "op-post").status == 200);
  CHECK(w.settle(w.op, b, "void", json::object(), "op-void").status == 200);
  auto missing = w.settle(w.as_alice, 999999, "post", json::object(), "missing");
  CHECK(missing.status == 404);
  CHECK(missing.error_code() == "not_found");
  CHECK(w.settle(w.as_alice, a, "post", {{"amount", 1}, {"currency", "EUR"}}, "x").status == 422);
  CHECK(w.sql.scalar_int("SELECT count(*) FROM transfers WHERE initiated_by <> 0 AND pending_id IS NOT NULL") == 0);
}

TEST_CASE("a hold past its deadline cannot be posted even before the sweeper runs, then it expires") {
  test::scratch_database db;
  // While this session holds the sweeper's lock, no bankd sweeps.
  test::pg_session lock(db.conninfo());
  lock.exec("SELECT pg_advisory_lock(" + std::to_string(sweeper_lock) + ")");
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 1000);
  auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  auto made = as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id},
                                           {"amount", 400}, {"pending", true}, {"timeout_seconds", 1}},
                            key("h"));
  REQUIRE(made.status == 201);
  const auto path = "/transfers/" + made.json()["id"].dump();
  std::this_thread::sleep_for(1200ms);

  for (const auto* what : {"post", "void"}) {
    auto late = as_alice.post(path + "/" + what, json::object(), key(std::string("late-") + what));
    CHECK(late.status == 409);
    CHECK(late.error_code() == "transfer_not_pending");
  }
  test::pg_session sql(db.conninfo());
  CHECK(sql.scalar_int("SELECT count(*) FROM holds") == 1);  // nobody swept
  CHECK(as_alice.get("/accounts/" + std::to_string(alice.account_id)).json()["held"] == 400);

  lock.exec("SELECT pg_advisory_unlock(" + std::to_string(sweeper_lock) + ")");
  json seen;
  for (int i = 0; i < 40; ++i) {  // the sweeper retries for the lock every second
    seen = op.get(path).json();
    if (seen["status"] == "expired") break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(seen.dump());
  CHECK(seen["status"] == "expired");
  CHECK(seen["held_amount"] == 0);
  REQUIRE(seen.contains("settled_at"));
  CHECK(seen["settled_at"].get<std::string>() >= seen["expires_at"].get<std::string>());
  const auto expiry = op.get("/transfers/" + seen["settled_by"].dump()).json();
  CHECK(expiry["kind"] == "expire");
  CHECK(expiry["pending_id"] == made.json()["id"]);
  const auto account = as_alice.get("/accounts/" + std::to_string(alice.account_id)).json();
  CHECK(account["held"] == 0);
  CHECK(account["available"] == 1000);
  test::check_ledger(db.conninfo());
}

TEST_CASE("a post racing the expiry: one of them settles the hold, never both") {
  test::ledger_world w;
  // Holds of 1 s, each posted every few milliseconds across its deadline
  // with fresh keys, starting at a different offset.
  std::vector<std::int64_t> ids;
  std::vector<std::thread> posters;
  std::vector<int> accepted(6, 0);
  std::vector<std::string> unexpected(6);  // Catch2's macros are not for other threads
  for (int i = 0; i < 6; ++i) ids.push_back(w.hold(10, "race-" + std::to_string(i), 1)["id"].get<std::int64_t>());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i)
    posters.emplace_back([&, i] {
      auto client = w.server->client(w.alice.api_key);
      std::this_thread::sleep_until(start + 850ms + i * 40ms);
      for (int n = 0; n < 40; ++n) {
        auto r = w.settle(client, ids[static_cast<std::size_t>(i)], "post", json::object(),
                          "race-post-" + std::to_string(i) + "-" + std::to_string(n));
        if (r.status == 200) ++accepted[static_cast<std::size_t>(i)];
        else if (r.error_code() != "transfer_not_pending") unexpected[static_cast<std::size_t>(i)] += r.body;
        std::this_thread::sleep_for(5ms);
      }
    });
  for (auto& t : posters) t.join();
  std::this_thread::sleep_for(1500ms);  // the sweeper expires what was not posted
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto t = w.transfer(ids[i]);
    INFO("hold " << ids[i] << ": " << t.dump());
    CHECK(accepted[i] <= 1);
    CHECK(unexpected[i].empty());
    CHECK(t["status"] == (accepted[i] == 1 ? "posted" : "expired"));
  }
}

TEST_CASE("GET /transfers/{id} and the history show status, held and posted amounts and the linked rows") {
  test::ledger_world w;
  const auto id = w.hold(250, "h", 600)["id"].get<std::int64_t>();
  auto history = w.as_alice.get("/accounts/" + std::to_string(w.alice.account_id) + "/transfers").json();
  REQUIRE(history["transfers"].size() == 2);  // the deposit and the hold
  CHECK(history["transfers"][0]["status"] == "pending");
  CHECK(history["transfers"][0]["held_amount"] == 250);
  CHECK(history["transfers"][0]["direction"] == "debit");
  CHECK(history["transfers"][0]["balance_after"] == 1000);
  CHECK(history["transfers"][0]["held_after"] == 250);
  // The receiver sees the hold coming, with its own side of it.
  auto incoming = w.as_bob.get("/accounts/" + std::to_string(w.bob.account_id) + "/transfers?status=pending").json();
  REQUIRE(incoming["transfers"].size() == 1);
  CHECK(incoming["transfers"][0]["direction"] == "credit");
  CHECK(incoming["transfers"][0]["balance_after"] == 0);

  auto posted = w.settle(w.as_alice, id, "post", {{"amount", 200}}, "p").json();
  const auto post_id = posted["settled_by"].get<std::int64_t>();
  history = w.as_alice.get("/accounts/" + std::to_string(w.alice.account_id) + "/transfers").json();
  REQUIRE(history["transfers"].size() == 3);
  CHECK(history["transfers"][0]["id"] == post_id);
  CHECK(history["transfers"][0]["kind"] == "post");
  CHECK(history["transfers"][0]["pending_id"] == id);
  CHECK(history["transfers"][0]["balance_after"] == 800);
  CHECK(history["transfers"][0]["held_after"] == 0);
  CHECK(history["transfers"][1]["status"] == "posted");
  CHECK(history["transfers"][1]["posted_amount"] == 200);
  CHECK(history["transfers"][1]["settled_by"] == post_id);
  const auto seen = w.as_bob.get("/transfers/" + std::to_string(id)).json();
  CHECK(seen["settled_at"] == w.transfer(post_id)["created_at"]);
}

TEST_CASE("batches mix holds, posts and voids, and atomic batches cover them") {
  test::ledger_world w;
  const auto a = w.hold(100, "h-a")["id"].get<std::int64_t>();
  const auto b = w.hold(100, "h-b")["id"].get<std::int64_t>();
  const json mixed{{"transfers",
                    {{{"action", "post"}, {"transfer_id", a}, {"amount", 60}, {"idempotency_key", "b-1"}},
                     {{"action", "void"}, {"transfer_id", b}, {"idempotency_key", "b-2"}},
                     {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                      {"amount", 50}, {"pending", true}, {"timeout_seconds", 60}, {"idempotency_key", "b-3"}},
                     {{"action", "void"}, {"transfer_id", a}, {"idempotency_key", "b-4"}}}}};
  auto reply = w.as_alice.post("/transfers/batch", mixed);
  REQUIRE(reply.status == 200);
  const auto results = reply.json()["results"];
  INFO(results.dump());
  CHECK(results[0]["status"] == 200);
  CHECK(results[0]["transfer"]["status"] == "posted");
  CHECK(results[1]["status"] == 200);
  CHECK(results[1]["transfer"]["status"] == "voided");
  CHECK(results[2]["status"] == 201);
  CHECK(results[2]["transfer"]["status"] == "pending");
  CHECK(results[3]["status"] == 409);  // posted two items before
  CHECK(results[3]["error"]["code"] == "transfer_not_pending");
  const auto c = results[2]["transfer"]["id"].get<std::int64_t>();

  SECTION("an atomic batch with a refused settlement applies nothing") {
    const json atomic{{"atomic", true},
                      {"transfers",
                       {{{"action", "post"}, {"transfer_id", c}, {"idempotency_key", "a-1"}},
                        {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                         {"amount", 10}, {"pending", true}, {"idempotency_key", "a-2"}},
                        {{"action", "void"}, {"transfer_id", b}, {"idempotency_key", "a-3"}}}}};
    auto done = w.as_alice.post("/transfers/batch", atomic).json()["results"];
    CHECK(done[0]["error"]["code"] == "batch_failed");
    CHECK(done[1]["error"]["code"] == "batch_failed");
    CHECK(done[2]["error"]["code"] == "transfer_not_pending");
    CHECK(w.transfer(c)["status"] == "pending");
    CHECK(w.account(w.alice.account_id)["held"] == 50);
  }
  SECTION("a malformed settlement item refuses the whole request, naming it") {
    auto bad = w.as_alice.post("/transfers/batch",
                               {{"transfers", {{{"action", "post"}, {"idempotency_key", "m-1"}}}}});
    CHECK(bad.status == 422);
    CHECK(bad.json()["error"]["message"].get<std::string>().rfind("transfers[0].transfer_id:", 0) == 0);
    auto unknown = w.as_alice.post("/transfers/batch",
                                   {{"transfers", {{{"action", "reverse"}, {"transfer_id", c},
                                                    {"idempotency_key", "m-2"}}}}});
    CHECK(unknown.status == 422);
  }
}
