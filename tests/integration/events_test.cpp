// The event feed: one event per change, in its transaction; ids in commit
// order (the outbox trap, shown on a plain sequence and closed on events);
// a consumer that polls while writers run sees every event once, in order;
// a user sees its own events; long polling.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace bankd;
using nlohmann::json;

namespace {

std::map<std::string, std::string> key(const std::string& k) { return {{"Idempotency-Key", k}}; }

// Every event after `after`, following next_after page by page.
std::vector<json> all_events(test::http_client& c, std::int64_t after = 0) {
  std::vector<json> out;
  for (;;) {
    const auto reply = c.get("/events?limit=50&after=" + std::to_string(after));
    REQUIRE(reply.status == 200);
    const auto page = reply.json();
    for (const auto& e : page["events"]) out.push_back(e);
    if (page["next_after"].get<std::int64_t>() == after) return out;
    after = page["next_after"].get<std::int64_t>();
  }
}

std::vector<std::string> types_of(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["type"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("every change writes its event in its own transaction, a refused one writes none") {
  test::scratch_database db;
  test::bankd_server server{db.conninfo()};
  auto op = server.operator_client();
  const auto start = all_events(op).size();  // the migrations' own rows, if any
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  const auto send = [&](std::int64_t amount, const std::string& k, bool pending = false) {
    json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", amount}};
    if (pending) body["pending"] = true;
    return as_alice.post("/transfers", body, key(k));
  };
  REQUIRE(send(100, "t1").status == 201);
  REQUIRE(send(5000, "too-much").status == 409);
  REQUIRE(send(100, "t1").status == 201);  // a replay: no second event
  const auto hold = send(50, "h1", true);
  REQUIRE(hold.status == 201);
  REQUIRE(as_alice.post("/transfers/" + std::to_string(hold.json()["id"].get<std::int64_t>()) + "/post",
                        json::object(), key("p1")).status == 200);

  const auto events = all_events(op);
  // The funding account of a currency is created with its first deposit.
  std::vector<json> mine;
  for (auto e = events.begin() + static_cast<std::ptrdiff_t>(start); e != events.end(); ++e)
    if ((*e)["type"] != "account.created" || (*e)["data"]["account"]["kind"] != "funding") mine.push_back(*e);
  // Alice is funded by a deposit, Bob starts empty.
  CHECK(types_of(mine) == std::vector<std::string>{"user.created", "account.created", "deposit.created",
                                                   "user.created", "account.created", "transfer.created",
                                                   "transfer.pending", "transfer.posted"});
  REQUIRE(mine.size() == 8);
  CHECK(mine[5]["data"]["transfer"]["amount"] == 100);
  CHECK(mine[5]["data"]["transfer"]["from_account_id"] == alice.account_id);
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(events[i]["id"].get<std::int64_t>() > events[i - 1]["id"].get<std::int64_t>());

  SECTION("a user sees the events of itself and its accounts only") {
    const auto seen = all_events(as_alice);
    CHECK(types_of(seen) == std::vector<std::string>{"user.created", "account.created", "deposit.created",
                                                     "transfer.created", "transfer.pending",
                                                     "transfer.posted"});
  }
  SECTION("bad cursors, limits and waits are refused") {
    CHECK(op.get("/events?after=-1").status == 422);
    CHECK(op.get("/events?limit=0").status == 422);
    CHECK(op.get("/events?limit=1001").status == 422);
    CHECK(op.get("/events?wait=31").status == 422);
    CHECK(op.get("/events?since=1").status == 422);
    CHECK(op.get("/events?after=1&after=2").status == 422);
    CHECK(server.client("no-such-key-000000000000000000000000").get("/events").status == 401);
  }
}

TEST_CASE("ids from a sequence are not commit order, event ids are") {
  test::scratch_database db;
  test::pg_session first{db.conninfo()};
  test::pg_session second{db.conninfo()};
  test::pg_session reader{db.conninfo()};

  SECTION("the trap: a plain outbox, read by id, skips a row that commits late") {
    first.exec("CREATE TABLE outbox (id bigserial PRIMARY KEY)");
    first.exec("BEGIN");
    const auto early = first.scalar_int("INSERT INTO outbox DEFAULT VALUES RETURNING id");
    const auto late = second.scalar_int("INSERT INTO outbox DEFAULT VALUES RETURNING id");  // commits now
    const auto cursor = reader.scalar_int("SELECT max(id) FROM outbox");
    first.exec("COMMIT");
    CHECK(early < late);
    CHECK(cursor == late);
    // A reader that moved past `late` never reads `early`.
    CHECK(reader.scalar_int("SELECT count(*) FROM outbox WHERE id > $1", {std::to_string(cursor)}) == 0);
  }
  SECTION("the feed: a second writer takes its ids only after the first is visible") {
    first.exec("BEGIN");
    first.exec("INSERT INTO users (name, email) VALUES ('first', 'first@example.com')");
    second.exec("SET lock_timeout = '300ms'");
    CHECK(second.error_state("INSERT INTO users (name, email) VALUES ('second', 'second@example.com')") ==
          "55P03");
    auto blocked = std::async(std::launch::async, [&] {
      second.exec("SET lock_timeout = '10s'");
      second.exec("INSERT INTO users (name, email) VALUES ('second', 'second@example.com')");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(blocked.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
    first.exec("COMMIT");
    blocked.get();
    CHECK(reader.scalar("SELECT string_agg(data->'user'->>'name', ',' ORDER BY id) FROM events "
                        "WHERE type = 'user.created' AND data->'user'->>'name' IN ('first', 'second')") ==
          "first,second");
  }
}

TEST_CASE("a consumer polling while writers run sees every event exactly once, in commit order") {
  test::scratch_database db;
  test::bankd_server server{db.conninfo()};
  auto op = server.operator_client();
  std::vector<test::funded_account> accounts;
  for (int i = 0; i < 8; ++i) accounts.push_back(test::create_funded_account(op, "EUR", 100000));

  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto c = server.operator_client();
      for (int i = 0; i < 150; ++i) {
        const auto& from = accounts[static_cast<std::size_t>((w + i) % 8)];
        const auto& to = accounts[static_cast<std::size_t>((w + i + 1 + w) % 8)];
        if (from.account_id == to.account_id) continue;
        c.post("/transfers", {{"from_account_id", from.account_id}, {"to_account_id", to.account_id},
                              {"amount", 1}}, key("w" + std::to_string(w) + "-" + std::to_string(i)));
        if (i % 50 == 0) c.post("/users", {{"name", "u"}, {"email", "u" + std::to_string(w * 1000 + i) + "@example.com"}});
      }
    });
  }
  auto consumer = server.operator_client();
  std::vector<std::int64_t> seen;
  std::int64_t after = 0;
  const auto poll = [&] {  // how many events the page held
    const auto page = consumer.get("/events?limit=37&wait=1&after=" + std::to_string(after)).json();
    for (const auto& e : page["events"]) seen.push_back(e["id"].get<std::int64_t>());
    after = page["next_after"].get<std::int64_t>();
    return page["events"].size();
  };
  std::thread stopper([&] {
    for (auto& t : writers) t.join();
    writing = false;
  });
  while (writing) poll();
  stopper.join();
  // The tail: the consumer may be many pages behind when the writers stop;
  // a page that stays empty for its whole 1 s wait means it has caught up.
  for (int pages = 0; pages < 100 && poll() > 0; ++pages) {
  }

  test::pg_session check{db.conninfo()};
  std::vector<std::int64_t> stored;
  for (const auto& row : check.query("SELECT id FROM events ORDER BY id")) stored.push_back(std::stoll(row[0]));
  CHECK(seen == stored);
  CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == seen.size());
  CHECK(check.scalar_int("SELECT count(*) FROM transfers t WHERE NOT EXISTS (SELECT 1 FROM events e "
                         "WHERE (e.data->'transfer'->>'id')::bigint = t.id)") == 0);
  CHECK(check.scalar_int("SELECT count(*) FROM events WHERE type = 'transfer.created'") ==
        check.scalar_int("SELECT count(*) FROM transfers WHERE kind = 'transfer'"));
}

TEST_CASE("a long poll answers when an event arrives, and empty at its end") {
  test::scratch_database db;
  test::bankd_server server{db.conninfo()};
  auto op = server.operator_client();
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  const auto last = op.get("/events?limit=1000").json()["next_after"].get<std::int64_t>();

  auto waiting = std::async(std::launch::async, [&] {
    auto c = server.operator_client();
    const auto started = std::chrono::steady_clock::now();
    const auto reply = c.get("/events?wait=5&after=" + std::to_string(last));
    return std::pair{reply.json(), std::chrono::steady_clock::now() - started};
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  REQUIRE(server.client(alice.api_key)
              .post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id},
                                   {"amount", 7}}, key("late"))
              .status == 201);
  const auto [page, took] = waiting.get();
  REQUIRE(page["events"].size() == 1);
  CHECK(page["events"][0]["type"] == "transfer.created");
  CHECK(took >= std::chrono::milliseconds(500));
  CHECK(took < std::chrono::seconds(4));

  const auto started = std::chrono::steady_clock::now();
  const auto empty = op.get("/events?wait=1&after=" + page["next_after"].dump()).json();
  CHECK(empty["events"].empty());
  CHECK(empty["next_after"] == page["next_after"]);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(700));
}
