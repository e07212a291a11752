// bank-loadtest with faults (--chaos) against bankd: backends killed, the
// database restarted and stopped, clients that give up mid-request, and bankd
// itself killed with SIGKILL and started again by the load test. In every case
// the full verifier must find no violation, every ambiguous request must be
// resolved by replaying its key, and transfers must be acknowledged again
// after every fault. These stop the shared cluster, so they run alone.

#include "loadtest/runner.hpp"
#include "support/bankd_process.hpp"
#include "support/bankd_server.hpp"
#include "support/scratch_database.hpp"
#include "util/log.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>

using namespace bankd;
using namespace std::chrono_literals;
namespace lt = bankd::loadtest;

namespace {

lt::options chaos_run(std::uint16_t port, const test::scratch_database& db,
                      std::vector<std::string> faults) {
  log::set_level(log::level::warn);
  lt::options o;
  o.urls.push_back({"127.0.0.1", port});
  o.operator_key = test::operator_key;
  o.database_url = db.conninfo();
  o.accounts = 200;
  o.duration = 10s;
  o.request_timeout = 3s;
  o.progress = lt::progress_mode::plain;
  o.chaos = std::move(faults);
  o.chaos_interval = 3s;
  o.chaos_outage = 2s;
  if (const char* ctl = std::getenv("BANKD_TEST_PGCTL")) o.pg_ctl = ctl;
  return o;
}

lt::run_report run_and_print(const lt::options& o) {
  auto result = lt::run(o);
  lt::print_table(std::cout, result.report);
  return result.report;
}

// What every scenario must show.
void check_survived(const lt::run_report& r) {
  for (const auto& v : r.violations) UNSCOPED_INFO(v.check << ": " << v.evidence);
  CHECK(r.violations.empty());
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.unresolved == 0);
  CHECK(r.resolved_committed + r.resolved_not_committed == r.ambiguous);
  CHECK(r.acknowledged > 100);
  CHECK(r.ledger_checked);
  for (const auto& [label, count] : r.statuses) {
    INFO(count << " x " << label);
    // "503 ...", or with --mix "post 503 ...".
    const auto status = label.substr(std::min(label.find_first_of("0123456789"), label.size()));
    const bool server_error = status.starts_with("5") && !status.starts_with("503");
    CHECK_FALSE(server_error);  // an outage is a 503, never a 500
  }
}

// Every fault of `kind` was injected, at least `at_least` times, and bankd
// recovered from each: ready again, and a transfer sent afterwards acknowledged.
void check_recovered(const lt::run_report& r, const std::string& kind, int at_least) {
  REQUIRE(r.chaos.injected.count(kind) == 1);
  CHECK(r.chaos.injected.at(kind) >= at_least);
  for (const auto& p : r.chaos.problems) UNSCOPED_INFO(p);
  CHECK(r.chaos.problems.empty());
  for (const auto& e : r.chaos.events) {
    INFO(e.kind << " at " << e.at_s << " s");
    CHECK(e.injected);
    CHECK(e.ready_again_s >= 0);
    CHECK(e.ready_again_s < 10);
    CHECK(e.first_201_s >= 0);
    CHECK(e.first_201_s < 10);
  }
}

// A shell word: bank-loadtest runs --bankd-cmd through /bin/sh.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string bankd_command(const std::string& conninfo, std::uint16_t port) {
  return quoted(test::bankd_binary()) + " serve --database-url " + quoted(conninfo) +
         " --listen-address 127.0.0.1 --port " + std::to_string(port) + " --operator-key " +
         quoted(test::operator_key) + " --threads 2 --pool-size 8 --log-level error";
}

}  // namespace

TEST_CASE("chaos: bankd's backends killed every 3 s") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  const auto r = run_and_print(chaos_run(server.port(), db, {"kill-backends"}));
  check_survived(r);
  check_recovered(r, "kill-backends", 2);
  for (const auto& e : r.chaos.events) CHECK(e.backends_killed > 0);
}

TEST_CASE("chaos: backends killed while batches of the batch API are in flight") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto o = chaos_run(server.port(), db, {"kill-backends"});
  o.batch = 20;
  const auto r = run_and_print(o);
  check_survived(r);
  check_recovered(r, "kill-backends", 2);
}

TEST_CASE("chaos: PostgreSQL restarted mid-run") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto o = chaos_run(server.port(), db, {"restart-db"});
  o.chaos_interval = 2500ms;  // a restart takes about a second: room for two with recovery
  const auto r = run_and_print(o);
  check_survived(r);
  check_recovered(r, "restart-db", 2);
}

TEST_CASE("chaos: PostgreSQL stopped for 2 s: /readyz 503, requests fail fast with 503") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  const auto r = run_and_print(chaos_run(server.port(), db, {"stop-db"}));
  check_survived(r);
  check_recovered(r, "stop-db", 1);
  for (const auto& e : r.chaos.events) {
    CHECK(e.readyz_503_seen);
    CHECK(e.probes > 0);
    CHECK(e.probes_503 == e.probes);
    CHECK(e.slowest_probe_ms < 1000);
    CHECK(e.outage_transfers > 0);  // the load's own transfers during the outage
    CHECK(e.outage_transfers_503 == e.outage_transfers);
    CHECK(e.slowest_outage_transfer_ms < 1000);
  }
}

TEST_CASE("chaos: clients that give up mid-request leave nothing unresolved") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  const auto r = run_and_print(chaos_run(server.port(), db, {"drop-clients"}));
  check_survived(r);
  CHECK(r.dropped_clients > 0);
  CHECK(r.chaos.injected.at("drop-clients") > 0);
  CHECK(r.statuses.count("hung up after sending") == 1);
  CHECK(r.ambiguous > 0);  // given up on after sending: only a replay can tell
}

TEST_CASE("chaos: holds, posts, voids and reversals through killed backends, a restart and dropped clients") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto o = chaos_run(server.port(), db, {"kill-backends", "restart-db", "drop-clients"});
  o.mix = lt::parse_mix("transfer=70,pending=20,post=7,void=3,reverse=2");
  o.hold_timeout_max = 2;
  const auto r = run_and_print(o);
  check_survived(r);
  check_recovered(r, "kill-backends", 1);
  check_recovered(r, "restart-db", 1);
  CHECK(r.statuses.count("post 200") == 1);
  CHECK(r.statuses.count("void 200") == 1);
}

TEST_CASE("chaos: bankd killed with SIGKILL mid-run and started again") {
  test::scratch_database db;
  const auto port = test::free_port();
  auto o = chaos_run(port, db, {"kill-bankd"});
  o.chaos_interval = 4s;
  o.bankd_cmd = bankd_command(db.conninfo(), port);
  const auto r = run_and_print(o);
  check_survived(r);
  check_recovered(r, "kill-bankd", 1);
}
