// Webhooks: the endpoints API, and delivery from the event feed to a
// receiver on loopback: every event once (after dedup), in order, signed;
// a backlog after the receiver recovers; an endpoint that never answers
// disabled; nothing lost when the delivering bankd is killed.

#include "loadtest/runner.hpp"
#include "support/bankd_process.hpp"
#include "support/bankd_server.hpp"
#include "support/eventually.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"
#include "support/webhook_receiver.hpp"
#include "util/log.hpp"
#include "webhooks/signature.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <array>
#include <atomic>
#include <map>
#include <chrono>
#include <thread>

using namespace bankd;
using nlohmann::json;
using namespace std::chrono_literals;
using mode = test::webhook_receiver::mode;
using test::eventually;
using test::metric;

namespace {

app::config webhook_config(const test::scratch_database& db) {
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.webhook_allow = "127.0.0.1";
  cfg.webhook_timeout = 1000ms;
  cfg.webhook_backoff = 100ms;
  return cfg;
}

json register_webhook(test::http_client& op, const std::string& url, json events = json::array({"*"})) {
  auto made = op.post("/webhooks", {{"url", url}, {"events", std::move(events)}, {"description", "test"}});
  INFO(made.body);
  REQUIRE(made.status == 201);
  return made.json();
}

// Ids of the events after `after`, in order.
std::vector<std::int64_t> event_ids_after(test::pg_session& sql, std::int64_t after) {
  std::vector<std::int64_t> out;
  for (const auto& row : sql.query("SELECT id FROM events WHERE id > $1 ORDER BY id", {std::to_string(after)}))
    out.push_back(std::stoll(row[0]));
  return out;
}

void create_users(test::http_client& op, const std::string& tag, int n) {
  for (int i = 0; i < n; ++i) {
    auto u = op.post("/users", {{"name", tag}, {"email", tag + std::to_string(i) + "@example.com"}});
    REQUIRE(u.status == 201);
  }
}

// What every receiver must have seen: each event exactly once after dedup,
// in event-id order, each delivery signed with `secret` and carrying the
// event as GET /events shows it.
void check_deliveries(const test::webhook_receiver& r, const std::vector<std::int64_t>& expected,
                      const std::string& secret, test::http_client& op, std::int64_t after) {
  const auto acknowledged = r.acknowledged_ids();
  CHECK(acknowledged == expected);
  std::size_t unsigned_or_wrong = 0, duplicates = 0;
  std::vector<std::int64_t> seen;
  for (const auto& d : r.received()) {
    if (!test::signature_valid(secret, d)) ++unsigned_or_wrong;
    if (d.acknowledged && std::find(seen.begin(), seen.end(), d.event_id) != seen.end()) ++duplicates;
    if (d.acknowledged) seen.push_back(d.event_id);
  }
  CHECK(unsigned_or_wrong == 0);
  WARN(r.received().size() << " deliveries, " << acknowledged.size() << " events, " << duplicates
                           << " acknowledged twice");
  // The bodies are the feed's events.
  std::map<std::int64_t, json> feed;
  for (auto cursor = after;;) {
    auto page = op.get("/events?after=" + std::to_string(cursor) + "&limit=1000").json();
    for (auto& e : page["events"]) feed[e["id"].get<std::int64_t>()] = e;
    if (page["events"].empty()) break;
    cursor = page["next_after"].get<std::int64_t>();
  }
  std::size_t mismatched = 0;
  for (const auto& d : r.received())
    if (d.acknowledged && (!feed.contains(d.event_id) || json::parse(d.body) != feed[d.event_id])) ++mismatched;
  CHECK(mismatched == 0);
}

}  // namespace

TEST_CASE("the receiver's signature check refuses what bankd did not sign") {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  test::received_delivery d{42, "1700000000", "", R"({"id":42})", true};
  d.signature = *webhooks::sign(secret, "42", 1700000000, d.body);
  CHECK(test::signature_valid(secret, d));
  CHECK_FALSE(test::signature_valid("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", d));
  auto tampered = d;
  tampered.body = R"({"id":43})";
  CHECK_FALSE(test::signature_valid(secret, tampered));
  auto replayed = d;
  replayed.timestamp = "1700000001";
  CHECK_FALSE(test::signature_valid(secret, replayed));
  auto rotated = d;
  rotated.signature = "v1,bm90IGl0 " + d.signature;
  CHECK(test::signature_valid(secret, rotated));
  rotated.signature = "v1,bm90IGl0";
  CHECK_FALSE(test::signature_valid(secret, rotated));
}

TEST_CASE("webhooks API: operator only, allowlisted URLs, known event types, secrets shown once") {
  test::scratch_database db;
  test::bankd_server server(webhook_config(db));
  auto op = server.operator_client();
  auto user = test::create_funded_account(op, "EUR", 0);
  auto as_user = server.client(user.api_key);

  CHECK(as_user.post("/webhooks", {{"url", "http://127.0.0.1:9/x"}, {"events", {"*"}}}).status == 403);
  CHECK(as_user.get("/webhooks").status == 403);
  const auto refused = op.post("/webhooks", {{"url", "http://10.0.0.1/x"}, {"events", {"*"}}});
  CHECK(refused.status == 422);
  CHECK(refused.error_code() == "url_not_allowed");
  for (const auto& url : {"https://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "http://127.0.0.1/x#f", "127.0.0.1"})
    CHECK(op.post("/webhooks", {{"url", url}, {"events", {"*"}}}).error_code() == "url_not_allowed");
  CHECK(op.post("/webhooks", {{"url", "http://127.0.0.1/x"}, {"events", {"money.made"}}}).status == 422);
  CHECK(op.post("/webhooks", {{"url", "http://127.0.0.1/x"}, {"events", {"*", "user.created"}}}).status == 422);
  CHECK(op.post("/webhooks", {{"url", "http://127.0.0.1/x"}, {"events", json::array()}}).status == 422);
  CHECK(op.post("/webhooks", {{"url", "http://127.0.0.1/x"}, {"events", {"*"}}, {"extra", 1}}).status == 422);
  CHECK(op.post("/webhooks", {{"url", "http://127.0.0.1/x"}}).status == 422);

  const auto made = register_webhook(op, "http://127.0.0.1:9/x", {"transfer.created", "deposit.created"});
  const auto id = std::to_string(made["id"].get<std::int64_t>());
  CHECK(made["secret"].get<std::string>().starts_with("whsec_"));
  CHECK(made["status"] == "enabled");
  CHECK(made["events"] == json::array({"transfer.created", "deposit.created"}));
  const auto read = op.get("/webhooks/" + id);
  REQUIRE(read.status == 200);
  CHECK_FALSE(read.json().contains("secret"));
  CHECK(op.get("/webhooks").json()["webhooks"].size() == 1);

  const auto rotated = op.post("/webhooks/" + id + "/rotate-secret", json::object());
  REQUIRE(rotated.status == 200);
  CHECK(rotated.json()["secret"] != made["secret"]);
  CHECK(rotated.json()["previous_secret_expires_at"].is_string());

  CHECK(op.del("/webhooks/" + id).status == 204);
  CHECK(op.get("/webhooks/" + id).status == 404);
  CHECK(op.del("/webhooks/" + id).status == 404);
  CHECK(op.post("/webhooks/" + id + "/enable", json::object()).status == 404);
  CHECK(op.get("/webhooks").json()["webhooks"].empty());
}

TEST_CASE("webhooks: a receiver gets every event of a load run once, in order, signed") {
  test::scratch_database db;
  test::webhook_receiver receiver;
  test::bankd_server server(webhook_config(db));
  auto op = server.operator_client();
  test::pg_session sql(db.conninfo());
  const auto made = register_webhook(op, receiver.url());
  const auto start = made["delivered_through"].get<std::int64_t>();

  log::set_level(log::level::warn);
  loadtest::options o;
  o.urls.push_back({"127.0.0.1", server.port()});
  o.operator_key = test::operator_key;
  o.database_url = db.conninfo();
  o.accounts = 50;
  o.duration = 3s;
  o.concurrency = 8;
  o.rate = 500;
  o.progress = loadtest::progress_mode::plain;
  const auto run = loadtest::run(o);
  CHECK(run.report.violations.empty());
  REQUIRE(run.report.acknowledged > 100);

  const auto expected = event_ids_after(sql, start);
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= expected.size(); }, 60s));
  check_deliveries(receiver, expected, made["secret"], op, start);
  auto metrics = server.client();
  CHECK(eventually([&] { return metric(metrics, "bankd_events_lag_seconds") == 0; }, 3s));
  CHECK(metric(metrics, "bankd_webhook_leading") == 1);
}

TEST_CASE("webhooks: a receiver that fails, then recovers, gets the backlog in order") {
  test::scratch_database db;
  test::webhook_receiver receiver;
  receiver.set_mode(mode::fail);
  test::bankd_server server(webhook_config(db));
  auto op = server.operator_client();
  test::pg_session sql(db.conninfo());
  const auto made = register_webhook(op, receiver.url(), {"user.created"});
  const auto path = "/webhooks/" + made["id"].dump();
  const auto start = made["delivered_through"].get<std::int64_t>();
  create_users(op, "backlog", 20);

  REQUIRE(eventually([&] { return op.get(path).json()["consecutive_failures"].get<int>() >= 3; }, 10s));
  const auto failing = op.get(path).json();
  CHECK(failing["status"] == "enabled");
  CHECK(failing["last_error"] == "HTTP 500");
  CHECK(failing["failing_since"].is_string());
  CHECK(failing["next_attempt_at"].is_string());
  CHECK(failing["delivered_through"] == start);
  const auto expected = event_ids_after(sql, start);  // users only: the subscription's type
  REQUIRE(expected.size() == 20);
  for (const auto& d : receiver.received()) CHECK(d.event_id == expected.front());  // the first, again and again

  receiver.set_mode(mode::answer);
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= expected.size(); }, 20s));
  check_deliveries(receiver, expected, made["secret"], op, start);
  const auto recovered = op.get(path).json();
  CHECK(recovered["consecutive_failures"] == 0);
  CHECK(recovered["failing_since"].is_null());
}

TEST_CASE("webhooks: a receiver that never answers is disabled, and re-enabling delivers the backlog") {
  test::scratch_database db;
  test::webhook_receiver receiver;
  receiver.set_mode(mode::hang);
  auto cfg = webhook_config(db);
  cfg.webhook_timeout = 300ms;
  cfg.webhook_retry_for = 1500ms;
  test::bankd_server server(cfg);
  auto op = server.operator_client();
  auto metrics = server.client();
  test::pg_session sql(db.conninfo());
  const auto made = register_webhook(op, receiver.url());
  const auto path = "/webhooks/" + made["id"].dump();
  const auto start = made["delivered_through"].get<std::int64_t>();
  create_users(op, "silent", 3);

  REQUIRE(eventually([&] { return op.get(path).json()["status"] == "disabled"; }, 10s));
  const auto disabled = op.get(path).json();
  CHECK(disabled["disabled_at"].is_string());
  CHECK(disabled["last_error"] == "timeout");
  CHECK(disabled["next_attempt_at"].is_null());
  CHECK(disabled["delivered_through"] == start);
  CHECK(eventually([&] { return metric(metrics, "bankd_webhook_endpoints{status=\"disabled\"}") == 1; }, 3s));
  CHECK(eventually([&] { return metric(metrics, "bankd_webhook_endpoints_disabled_total") == 1; }, 2000ms));
  CHECK(metric(metrics, "bankd_webhook_deliveries_total{outcome=\"failed\"}") >= 2);
  // Disabled means no more attempts.
  const auto attempts = receiver.received().size();
  std::this_thread::sleep_for(700ms);
  CHECK(receiver.received().size() == attempts);

  receiver.set_mode(mode::answer);
  const auto enabled = op.post(path + "/enable", json::object());
  REQUIRE(enabled.status == 200);
  CHECK(enabled.json()["status"] == "enabled");
  const auto expected = event_ids_after(sql, start);
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= expected.size(); }, 10s));
  check_deliveries(receiver, expected, made["secret"], op, start);
}

TEST_CASE("webhooks: killing the delivering bankd mid-run loses nothing, the other instance takes over") {
  test::scratch_database db;
  test::webhook_receiver receiver;
  test::pg_session sql(db.conninfo());
  const test::bankd_process::options opts{{"BANKD_WEBHOOK_ALLOW=127.0.0.1", "BANKD_WEBHOOK_BACKOFF_MS=100"}, -1};
  std::array<std::uint16_t, 2> ports{test::free_port(), test::free_port()};
  std::array<std::unique_ptr<test::bankd_process>, 2> instances;
  for (std::size_t i = 0; i < 2; ++i) {
    instances[i] = std::make_unique<test::bankd_process>(db.conninfo(), ports[i], opts);
    REQUIRE(test::wait_ready(ports[i]));
  }
  std::array<test::http_client, 2> watch{test::http_client(ports[0]), test::http_client(ports[1])};
  REQUIRE(eventually([&] { return metric(watch[0], "bankd_webhook_leading") + metric(watch[1], "bankd_webhook_leading") == 1; }, 5s));
  const std::size_t leader = metric(watch[0], "bankd_webhook_leading") == 1 ? 0 : 1;
  const std::size_t survivor = 1 - leader;

  test::http_client op(ports[survivor], test::operator_key);
  const auto made = register_webhook(op, receiver.url());
  const auto start = made["delivered_through"].get<std::int64_t>();
  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    test::http_client client(ports[survivor], test::operator_key);
    for (int i = 0; writing; ++i) {
      auto u = client.post("/users", {{"name", "w"}, {"email", "w" + std::to_string(i) + "@example.com"}});
      if (u.status == 201) ++written;
    }
  });
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= 50; }, 10s));
  instances[leader]->stop(SIGKILL);
  const auto at_kill = receiver.acknowledged_ids().size();
  REQUIRE(eventually([&] { return metric(watch[survivor], "bankd_webhook_leading") == 1; }, 10s));
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= at_kill + 50; }, 10s));
  writing = false;
  writer.join();

  const auto expected = event_ids_after(sql, start);
  CHECK(expected.size() == static_cast<std::size_t>(written.load()));
  REQUIRE(eventually([&] { return receiver.acknowledged_ids().size() >= expected.size(); }, 20s));
  check_deliveries(receiver, expected, made["secret"], op, start);
  CHECK(metric(watch[survivor], "bankd_webhook_deliveries_total{outcome=\"delivered\"}") > 0);
}
