// Balance history through HTTP: the balance at an instant, statements with
// running balances (JSON and CSV, paged), the history's filters, and
// metadata on transfers and accounts with its limits.

#include "support/ledger_world.hpp"

#include <chrono>
#include <sstream>
#include <thread>

using namespace bankd;
using nlohmann::json;
using test::key;
using namespace std::chrono_literals;

namespace {

json pay(test::ledger_world& w, std::int64_t amount, const std::string& k, json extra = json::object()) {
  json body{{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id}, {"amount", amount}};
  body.update(extra);
  auto r = w.as_alice.post("/transfers", body, key(k));
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json();
}

std::string account_path(std::int64_t id, const std::string& tail) {
  return "/accounts/" + std::to_string(id) + tail;
}

// '+' in a query must be escaped, or it reads as a space.
std::string escaped(std::string t) {
  for (auto at = t.find('+'); at != std::string::npos; at = t.find('+', at)) t.replace(at, 1, "%2B");
  return t;
}

}  // namespace

TEST_CASE("balance?at= gives the balance and held exactly at a transfer's time and between transfers") {
  test::ledger_world w;
  const auto first = pay(w, 100, "t-1");
  std::this_thread::sleep_for(20ms);
  w.hold(50, "h");
  std::this_thread::sleep_for(20ms);
  const auto third = pay(w, 200, "t-3");
  const auto at = [&](const std::string& instant) {
    auto r = w.as_alice.get(account_path(w.alice.account_id, "/balance?at=" + escaped(instant)));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  const auto exactly = at(first["created_at"].get<std::string>());
  CHECK(exactly["balance"] == 900);
  CHECK(exactly["held"] == 0);
  CHECK(exactly["last_transfer_id"] == first["id"]);
  // Between the hold and the third transfer: the hold counts, the third not.
  const auto hold_row = w.sql.query("SELECT rfc3339(created_at + interval '5 milliseconds') FROM transfers WHERE kind = 'pending'");
  const auto between = at(hold_row.at(0).at(0));
  CHECK(between["balance"] == 900);
  CHECK(between["held"] == 50);
  CHECK(between["available"] == 850);
  CHECK(at(third["created_at"].get<std::string>())["balance"] == 700);
  CHECK(at("2000-01-01T00:00:00Z")["balance"] == 0);
  CHECK(at("2000-01-01T00:00:00Z")["last_transfer_id"].is_null());
  // Another time zone is the same instant.
  CHECK(at("2999-12-31T23:00:00-05:00")["balance"] == 700);
  // Without at: now.
  CHECK(w.as_alice.get(account_path(w.alice.account_id, "/balance")).json()["balance"] == 700);

  for (const auto* bad : {"yesterday", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01%2000:00:00Z"}) {
    auto r = w.as_alice.get(account_path(w.alice.account_id, std::string("/balance?at=") + bad));
    INFO(bad);
    CHECK(r.status == 422);
  }
  CHECK(w.as_bob.get(account_path(w.alice.account_id, "/balance")).status == 404);
  CHECK(w.op.get(account_path(999999, "/balance")).status == 404);
}

TEST_CASE("a statement: opening balance, entries with running balances, closing balance") {
  test::ledger_world w;
  std::vector<json> made;
  for (int i = 1; i <= 5; ++i) made.push_back(pay(w, i * 10, "t-" + std::to_string(i)));
  const auto h = w.hold(100, "h")["id"].get<std::int64_t>();
  w.settle(w.as_alice, h, "post", {{"amount", 40}}, "p");
  const auto whole = w.as_alice.get(account_path(w.alice.account_id, "/statement")).json();
  INFO(whole.dump());
  CHECK(whole["opening"]["balance"] == 0);
  CHECK(whole["closing"]["balance"] == w.account(w.alice.account_id)["balance"]);
  CHECK(whole["closing"]["held"] == 0);
  const auto& entries = whole["entries"];
  REQUIRE(entries.size() == 7);  // the deposit, five transfers, the post; the hold moved nothing
  std::int64_t running = whole["opening"]["balance"].get<std::int64_t>();
  for (const auto& e : entries) {
    running += e["amount"].get<std::int64_t>();
    CHECK(e["balance_after"] == running);
  }
  CHECK(running == whole["closing"]["balance"]);
  CHECK(entries[6]["kind"] == "post");
  CHECK(entries[6]["amount"] == -40);

  SECTION("a range from the second transfer to the fourth, in pages of two") {
    const auto from = made[1]["created_at"].get<std::string>(), to = made[3]["created_at"].get<std::string>();
    const auto base = "/statement?from=" + escaped(from) + "&to=" + escaped(to) + "&limit=2";
    auto page = w.as_alice.get(account_path(w.alice.account_id, base));
    REQUIRE(page.status == 200);
    const auto one = page.json();
    CHECK(one["opening"]["balance"] == 1000 - 10);
    CHECK(one["closing"]["balance"] == 1000 - 10 - 20 - 30 - 40);
    REQUIRE(one["entries"].size() == 2);
    CHECK(one["entries"][0]["id"] == made[1]["id"]);
    REQUIRE_FALSE(one["next_after"].is_null());
    CHECK(page.header("link").find("rel=\"next\"") != std::string::npos);
    auto rest = w.as_alice.get(account_path(w.alice.account_id, base + "&after=" + one["next_after"].dump())).json();
    REQUIRE(rest["entries"].size() == 1);
    CHECK(rest["entries"][0]["id"] == made[3]["id"]);
    CHECK(rest["entries"][0]["balance_after"] == one["closing"]["balance"]);
    CHECK(rest["next_after"].is_null());
  }
  SECTION("as CSV with Accept: text/csv") {
    auto csv = w.as_alice.request("GET", account_path(w.alice.account_id, "/statement"), "", {{"Accept", "text/csv"}});
    REQUIRE(csv.status == 200);
    CHECK(csv.header("content-type").rfind("text/csv", 0) == 0);
    std::istringstream lines(csv.body);
    std::vector<std::string> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(line);
    REQUIRE(rows.size() == 1 + 1 + 7 + 1);
    CHECK(rows[0] == "id,created_at,kind,direction,amount,balance_after,held_after,counterparty_account_id,reference,"
                     "metadata\r");
    CHECK(rows[1].find(",opening,") != std::string::npos);
    CHECK(rows[8].rfind(std::to_string(entries[6]["id"].get<std::int64_t>()) + ",", 0) == 0);
    CHECK(rows[8].find(",post,debit,-40,") != std::string::npos);
    CHECK(rows[9].find(",closing,,," + whole["closing"]["balance"].dump() + ",0,") != std::string::npos);
  }
  CHECK(w.as_bob.get(account_path(w.alice.account_id, "/statement")).status == 404);
  CHECK(w.as_alice.get(account_path(w.alice.account_id, "/statement?limit=0")).status == 422);
  CHECK(w.as_alice.get(account_path(w.alice.account_id, "/statement?from=now")).status == 422);
}

TEST_CASE("CSV fields with commas, quotes and line breaks are quoted") {
  test::ledger_world w;
  pay(w, 5, "t", {{"reference", "a, \"quoted\"\nline"}});
  auto csv = w.as_bob.request("GET", account_path(w.bob.account_id, "/statement"), "", {{"Accept", "text/csv"}});
  REQUIRE(csv.status == 200);
  CHECK(csv.body.find(",\"a, \"\"quoted\"\"\nline\",") != std::string::npos);
}

TEST_CASE("the history filters by time, direction, status, reference and a metadata key and value") {
  test::ledger_world w;
  const auto early = pay(w, 1, "t-1", {{"reference", "order-1"}, {"metadata", {{"channel", "web"}}}});
  std::this_thread::sleep_for(20ms);
  pay(w, 2, "t-2", {{"reference", "order-2"}, {"metadata", {{"channel", "app"}, {"shop", "7"}}}});
  const auto h = w.hold(3, "h");
  auto back = w.as_bob.post("/transfers", {{"from_account_id", w.bob.account_id},
                                           {"to_account_id", w.alice.account_id}, {"amount", 1}},
                            key("b"));
  REQUIRE(back.status == 201);
  const auto ids = [&](const std::string& query) {
    auto r = w.as_alice.get(account_path(w.alice.account_id, "/transfers" + query));
    INFO(query << ": " << r.body);
    REQUIRE(r.status == 200);
    std::vector<std::int64_t> out;
    const auto page = r.json();
    for (const auto& t : page["transfers"]) out.push_back(t["id"].get<std::int64_t>());
    return out;
  };
  const auto deposit = ids("?direction=credit").back();
  CHECK(ids("?direction=credit") == std::vector<std::int64_t>{back.json()["id"].get<std::int64_t>(), deposit});
  CHECK(ids("?status=pending") == std::vector<std::int64_t>{h["id"].get<std::int64_t>()});
  CHECK(ids("?reference=order-2").size() == 1);
  CHECK(ids("?metadata_key=channel&metadata_value=web") == std::vector<std::int64_t>{early["id"].get<std::int64_t>()});
  CHECK(ids("?metadata_key=shop&metadata_value=8").empty());
  CHECK(ids("?to=" + escaped(early["created_at"].get<std::string>())) ==
        std::vector<std::int64_t>{early["id"].get<std::int64_t>(), deposit});
  CHECK(ids("?from=" + escaped(early["created_at"].get<std::string>()) + "&direction=debit&limit=1") ==
        std::vector<std::int64_t>{h["id"].get<std::int64_t>()});
  // Pages with filters: `before` continues where the last page stopped.
  const auto first_page = ids("?direction=debit&limit=2");
  REQUIRE(first_page.size() == 2);
  CHECK(ids("?direction=debit&limit=2&before=" + std::to_string(first_page[1])) ==
        std::vector<std::int64_t>{early["id"].get<std::int64_t>()});
  for (const auto* bad : {"?direction=up", "?status=done", "?metadata_key=channel", "?from=x", "?limit=201",
                          "?colour=red", "?reference="}) {
    INFO(bad);
    CHECK(w.as_alice.get(account_path(w.alice.account_id, std::string("/transfers") + bad)).status == 422);
  }
}

TEST_CASE("metadata: stored, returned, part of the idempotency comparison, with clear 422s at its limits") {
  test::ledger_world w;
  const json meta{{"order", "A-17"}, {"note", "ünïcode ✓"}};
  const auto t = pay(w, 5, "m", {{"metadata", meta}});
  CHECK(t["metadata"] == meta);
  CHECK(w.transfer(t["id"].get<std::int64_t>())["metadata"] == meta);
  // The same key: the same metadata is a replay (in any key order), other metadata is not.
  CHECK(w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                                       {"amount", 5}, {"metadata", {{"note", "ünïcode ✓"}, {"order", "A-17"}}}},
                        key("m")).header("idempotent-replayed") == "true");
  CHECK(w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                                       {"amount", 5}, {"metadata", {{"order", "A-18"}}}},
                        key("m")).error_code() == "idempotency_key_reused");
  CHECK(w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id}, {"to_account_id", w.bob.account_id},
                                       {"amount", 5}},
                        key("m")).error_code() == "idempotency_key_reused");

  auto account = w.op.post("/accounts", {{"currency", "EUR"}, {"user_id", w.alice.user_id},
                                         {"metadata", {{"purpose", "savings"}}}});
  REQUIRE(account.status == 201);
  CHECK(account.json()["metadata"] == json{{"purpose", "savings"}});
  CHECK(w.account(account.json()["id"].get<std::int64_t>())["metadata"] == json{{"purpose", "savings"}});

  json fifty, fifty_one;
  for (int i = 0; i < 51; ++i) (i < 50 ? fifty : fifty_one)["k" + std::to_string(i)] = "v";
  fifty_one.update(fifty);
  json big{{"blob", std::string(4096 - 11, 'x')}};  // {"blob":"..."}: 4,096 bytes
  json too_big{{"blob", std::string(4096 - 10, 'x')}};
  const std::vector<std::pair<json, const char*>> cases{
      {fifty, nullptr}, {big, nullptr}, {fifty_one, "51 keys"}, {too_big, "4097 bytes"},
      {json::array({"a"}), "JSON object"}, {json{{"n", 1}}, "'metadata'.n must be a string"},
      {json{{"nested", {{"a", "b"}}}}, "must be a string"}, {json{{"", "empty key"}}, "keys must be 1..64"},
      {json{{std::string(65, 'k'), "v"}}, "keys must be 1..64"}, {json("text"), "JSON object"}};
  int n = 0;
  for (const auto& [value, complaint] : cases) {
    auto r = w.as_alice.post("/transfers", {{"from_account_id", w.alice.account_id},
                                            {"to_account_id", w.bob.account_id}, {"amount", 1},
                                            {"metadata", value}},
                             key("limit-" + std::to_string(n++)));
    INFO(value.dump().substr(0, 80) << ": " << r.body.substr(0, 200));
    if (!complaint) {
      CHECK(r.status == 201);
      continue;
    }
    CHECK(r.status == 422);
    CHECK(r.error_code() == "validation_failed");
    CHECK(r.json()["error"]["message"].get<std::string>().find(complaint) != std::string::npos);
  }
  auto nul = w.as_alice.request("POST", "/transfers",
                                R"({"from_account_id":)" + std::to_string(w.alice.account_id) +
                                    R"(,"to_account_id":)" + std::to_string(w.bob.account_id) +
                                    R"(,"amount":1,"metadata":{"a":"x\u0000y"}})",
                                {{"Idempotency-Key", "nul"}, {"Content-Type", "application/json"}});
  CHECK(nul.status == 422);
  CHECK(w.op.post("/accounts", {{"currency", "EUR"}, {"user_id", w.alice.user_id}, {"metadata", fifty_one}}).status ==
        422);
}
