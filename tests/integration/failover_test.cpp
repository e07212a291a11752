// The failover scenario (ctest -L failover): a pg_auto_failover formation on
// loopback (scripts/ha/formation.sh), bankd pointed at both nodes through a
// multi-host URL with target_session_attrs=read-write, and bank-loadtest
// killing the primary twice under load (there and back). Every acknowledged
// transfer must be in the new primary's ledger exactly once, every ambiguous
// request resolved by replaying its key, and the first 201 must come within
// 15 s of each kill. The negative control runs with asynchronous replication
// and the WAL senders stalled before the kill: the ledger check must then
// find acknowledged transfers missing, or the zero above proves nothing.

#include "loadtest/runner.hpp"
#include "migrate/migrator.hpp"
#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"
#include "util/log.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>

using namespace bankd;
using namespace std::chrono_literals;
namespace lt = bankd::loadtest;

namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its first line of output. Throws when it fails.
std::string run_command(const std::string& line) {
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + line);
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("failed: " + line);
  return out.substr(0, out.find('\n'));
}

// A formation in a directory of its own, stopped and removed at the end.
class formation {
 public:
  formation() {
    char dir[] = "/tmp/bankd-failover.XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    ::chmod(dir, 0755);  // the postgres user runs the nodes inside
    ctl_ = quoted(BANKD_FORMATION_SCRIPT) + " --dir " + quoted(dir_ + "/f");
    try {
      url_ = run_command(ctl_ + " start");
    } catch (...) {
      ::rmdir(dir);  // start cleaned up dir/f
      throw;
    }
  }
  formation(const formation&) = delete;
  formation& operator=(const formation&) = delete;
  ~formation() {
    std::system((ctl_ + " stop").c_str());  // NOLINT(cert-env33-c)
    ::rmdir(dir_.c_str());  // stop removed dir/f
  }
  const std::string& ctl() const { return ctl_; }
  const std::string& url() const { return url_; }
  std::string run(const std::string& action) const { return run_command(ctl_ + " " + action); }

 private:
  std::string ctl_, url_, dir_;
};

lt::options failover_run(std::uint16_t port, const formation& f, const std::string& pick) {
  log::set_level(log::level::error);  // an outage's 503s are warnings, thousands of them
  lt::options o;
  o.urls.push_back({"127.0.0.1", port});
  o.operator_key = test::operator_key;
  o.database_url = f.url();
  o.accounts = 200;
  // Two failovers: each ~8 s to promote and 10-30 s for the old primary to
  // rejoin (pg_rewind, then catching up under the load), over 40 s on a slow
  // machine. The second must start 18 s before the end (the 15 s first-201
  // limit and the recovery window), so 90 s leaves room for a 60 s rejoin.
  o.duration = 90s;
  o.request_timeout = 5s;
  o.progress = lt::progress_mode::plain;
  o.pick = lt::parse_distribution(pick);
  o.chaos = {"failover"};
  o.chaos_interval = 3s;
  o.chaos_count = 2;
  o.ha_ctl = f.ctl();
  return o;
}

lt::run_report run_and_print(const lt::options& o) {
  auto result = lt::run(o);
  lt::print_table(std::cout, result.report);
  return result.report;
}

void check_no_loss(const lt::run_report& r) {
  for (const auto& v : r.violations) UNSCOPED_INFO(v.check << ": " << v.evidence);
  CHECK(r.violations.empty());
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.ledger_checked);
  CHECK(r.unresolved == 0);
  CHECK(r.resolved_committed + r.resolved_not_committed == r.ambiguous);
  CHECK(r.acknowledged > 1000);
  for (const auto& [status, count] : r.statuses) {
    INFO(count << " x " << status);
    CHECK_FALSE((status.starts_with("5") && !status.starts_with("503")));  // 503, never 500
  }
}

void check_failed_over_twice(const lt::run_report& r) {
  for (const auto& p : r.chaos.problems) UNSCOPED_INFO(p);
  CHECK(r.chaos.problems.empty());
  for (const auto& e : r.chaos.events)
    UNSCOPED_INFO("failover at " << e.at_s << " s: rejoined " << e.rejoined_s << " s after the kill");
  CHECK(r.chaos.not_started == 0);
  REQUIRE(r.chaos.injected.count("failover") == 1);
  CHECK(r.chaos.injected.at("failover") == 2);
  REQUIRE(r.chaos.events.size() == 2);
  CHECK(r.chaos.events[0].killed_node != r.chaos.events[1].killed_node);  // there and back
  for (const auto& e : r.chaos.events) {
    INFO("failover at " << e.at_s << " s, " << e.killed_node << " killed");
    CHECK(e.readyz_503_seen);
    CHECK(e.writable_s > 0);
    CHECK(e.first_201_s > 0);
    CHECK(e.first_201_s < 15);
    CHECK(e.first_201_after_writable_s < 2);  // target 1 s; the slack is for a busy CI machine
    CHECK(e.outage_transfers > 0);
    CHECK(e.outage_transfers_503 == e.outage_transfers);  // fail fast, say when to come back
  }
  // The first killed node came back as the secondary, so the second failover
  // went back to it; nothing needs the second one back.
  CHECK(r.chaos.events[0].rejoin_awaited);
  CHECK(r.chaos.events[0].rejoined_s > 0);
  CHECK_FALSE(r.chaos.events[1].rejoin_awaited);
}

}  // namespace

TEST_CASE("failover under uniform load: no acknowledged transfer lost, there and back") {
  formation f;
  migrate::apply_all(f.url(), test::migrations_dir());
  test::bankd_server server(f.url());
  const auto r = run_and_print(failover_run(server.port(), f, "uniform"));
  check_no_loss(r);
  check_failed_over_twice(r);
}

TEST_CASE("failover under hot:4 load, bankd given the standby first") {
  formation f;
  migrate::apply_all(f.url(), test::migrations_dir());
  // libpq skips the standby (target_session_attrs=read-write), and so does
  // bankd's pool: none of bankd's sessions may be on it.
  const auto standby_first = f.run("url standby-first");
  REQUIRE(standby_first != f.url());
  test::bankd_server server(standby_first);
  const auto secondary = f.run("secondary");
  const auto host = standby_first.find("@127.0.0.1:") + 11;
  const auto standby_port = standby_first.substr(host, standby_first.find(',') - host);
  test::pg_session standby("postgresql://postgres@127.0.0.1:" + standby_port + "/postgres");
  CHECK(standby.scalar_int("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bankd'") == 0);
  CHECK(standby.scalar("SELECT pg_is_in_recovery()::text") == "true");

  auto o = failover_run(server.port(), f, "hot:4");
  o.database_url = standby_first;  // the verifier too
  const auto r = run_and_print(o);
  check_no_loss(r);
  check_failed_over_twice(r);
  CHECK(r.chaos.events[0].killed_node != secondary);
}

TEST_CASE("failover under the batch API: no acknowledged item of a batch lost") {
  formation f;
  migrate::apply_all(f.url(), test::migrations_dir());
  test::bankd_server server(f.url());
  auto o = failover_run(server.port(), f, "uniform");
  o.batch = 20;
  // One failover, there only: the way back is what the two-way cases prove,
  // and under the batch API's write rate the old primary's rejoin (pg_rewind,
  // then catching up) is slow, once over 90 s on a CI machine. With nothing
  // after it, the run does not wait for that rejoin.
  o.duration = 25s;
  o.chaos_count = 1;
  const auto r = run_and_print(o);
  check_no_loss(r);
  for (const auto& p : r.chaos.problems) UNSCOPED_INFO(p);
  REQUIRE(r.chaos.injected.count("failover") == 1);
  REQUIRE(r.chaos.events.size() == 1);
  const auto& e = r.chaos.events.front();
  CHECK(e.readyz_503_seen);
  CHECK(e.writable_s > 0);
  CHECK(e.first_201_s > 0);
  CHECK(e.first_201_s < 15);
  CHECK(e.first_201_after_writable_s < 2);
  CHECK(e.outage_transfers_503 == e.outage_transfers);
  CHECK_FALSE(e.rejoin_awaited);
}

TEST_CASE("negative control: with asynchronous replication the ledger check finds the loss") {
  formation f;
  migrate::apply_all(f.url(), test::migrations_dir());
  f.run("async");
  test::bankd_server server(f.url());
  auto o = failover_run(server.port(), f, "uniform");
  o.duration = 25s;  // one failover
  o.chaos_count = 1;
  o.replication_stall = 1500ms;  // acknowledged, never sent to the standby
  const auto r = run_and_print(o);
  REQUIRE(r.chaos.injected.count("failover") == 1);
  CHECK(r.chaos.events.front().writable_s > 0);
  CHECK(r.ledger_checked);
  CHECK(r.result == lt::verdict::violated);
  std::map<std::string, std::size_t> by_check;
  for (const auto& v : r.violations) ++by_check[v.check];
  for (const auto& [check, count] : by_check) std::cout << "  violations " << check << ": " << count << "\n";
  CHECK(by_check["ledger_missing"] > 0);  // acknowledged, then lost with the old primary
}
