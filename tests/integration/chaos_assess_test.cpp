// The chaos report's own judgement, without sockets or a database: the load's
// transfers matched to a fault by time must be able to show that bankd did
// not fail fast or did not recover, or the chaos scenarios prove nothing.

#include "loadtest/chaos.hpp"
#include "loadtest/options.hpp"

#include <catch2/catch.hpp>

namespace lt = bankd::loadtest;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const auto t0 = clock_type::now();

lt::attempt sent(clock_type::duration at, clock_type::duration took, std::uint16_t status,
                 bool retry_after = true) {
  lt::attempt a;
  a.sent_at = t0 + at;
  a.answered_at = t0 + at + took;
  a.status = status;
  a.retry_after = retry_after;
  a.first = status == 201 ? lt::outcome::acknowledged : lt::outcome::ambiguous;
  return a;
}

// A stop-db fault: database down from 1 s to 3 s, back at 3.5 s.
lt::chaos_event stop_db() {
  lt::chaos_event e;
  e.kind = "stop-db";
  e.at_s = 0.5;
  e.injected = true;
  e.down_from = t0 + 1s;
  e.down_until = t0 + 3s;
  e.ended = t0 + 3500ms;
  return e;
}

}  // namespace

TEST_CASE("chaos: fast 503s during an outage and a 201 after it are a clean recovery") {
  lt::chaos_summary s;
  s.events.push_back(stop_db());
  std::deque<lt::attempt> load{sent(1200ms, 2ms, 503), sent(2s, 5ms, 503), sent(3600ms, 10ms, 201)};
  lt::assess_faults(s, load, t0 + 10s);
  const auto& e = s.events.front();
  CHECK(e.outage_transfers == 2);
  CHECK(e.outage_transfers_503 == 2);
  CHECK(e.slowest_outage_transfer_ms == Approx(5).margin(0.1));
  CHECK(e.first_201_s == Approx(0.11).margin(0.001));
  CHECK(s.injected.at("stop-db") == 1);
  CHECK(s.problems.empty());
}

TEST_CASE(
    "chaos: a slow answer, a missing Retry-After or a timeout during an outage is a problem") {
  for (const auto& bad : {sent(2s, 1500ms, 503), sent(2s, 5ms, 503, false), sent(2s, 3s, 0)}) {
    lt::chaos_summary s;
    s.events.push_back(stop_db());
    std::deque<lt::attempt> load{sent(1200ms, 2ms, 503), bad, sent(3600ms, 10ms, 201)};
    lt::assess_faults(s, load, t0 + 10s);
    REQUIRE_FALSE(s.problems.empty());
    for (const auto& p : s.problems) CHECK(p.starts_with("stop-db at 0.5 s: "));
  }
}

TEST_CASE("chaos: requests cut off on purpose do not count against bankd") {
  lt::chaos_summary s;
  s.events.push_back(stop_db());
  auto dropped = sent(2s, 3s, 0);
  dropped.abandoned = true;
  std::deque<lt::attempt> load{sent(1200ms, 2ms, 503), dropped, sent(3600ms, 10ms, 201)};
  lt::assess_faults(s, load, t0 + 10s);
  CHECK(s.problems.empty());
  CHECK(s.events.front().outage_transfers == 1);
}

TEST_CASE("chaos: no 201 after a fault is a problem only if the load went on long enough") {
  lt::chaos_event e;
  e.kind = "kill-backends";
  e.injected = true;
  e.ended = t0 + 2s;
  // Acknowledged, but sent before the fault ended: not evidence of recovery.
  std::deque<lt::attempt> load{sent(1900ms, 200ms, 201), sent(2100ms, 5ms, 503)};

  lt::chaos_summary long_run;
  long_run.events.push_back(e);
  lt::assess_faults(long_run, load, t0 + 6s);
  CHECK(long_run.events.front().first_201_s < 0);
  CHECK(long_run.problems.size() == 1);

  lt::chaos_summary ended_soon;
  ended_soon.events.push_back(e);
  lt::assess_faults(ended_soon, load, t0 + 3s);
  CHECK(ended_soon.events.front().first_201_s < 0);
  CHECK(ended_soon.problems.empty());
}

TEST_CASE("chaos: a fault that could not be injected is reported, not counted") {
  lt::chaos_summary s;
  lt::chaos_event e;
  e.kind = "restart-db";
  e.problems.emplace_back("pg_ctl restart failed");
  s.events.push_back(e);
  lt::assess_faults(s, {}, t0 + 10s);
  CHECK(s.injected.count("restart-db") == 0);
  REQUIRE(s.problems.size() == 1);
  CHECK(s.problems.front().ends_with("pg_ctl restart failed"));
}

TEST_CASE("chaos: kill-bankd needs the command that starts bankd") {
  const char* no_cmd[] = {"bank-loadtest", "--operator-key", "k", "--chaos", "kill-bankd"};
  CHECK_THROWS_AS(lt::parse_options(static_cast<int>(std::size(no_cmd)), no_cmd),
                  std::invalid_argument);
  const char* with_cmd[] = {"bank-loadtest", "--operator-key", "k",          "--chaos",
                            "kill-bankd",    "--bankd-cmd",    "bankd serve"};
  const auto o = lt::parse_options(static_cast<int>(std::size(with_cmd)), with_cmd);
  CHECK(o.chaos == std::vector<std::string>{"kill-bankd"});
  CHECK(o.bankd_cmd == "bankd serve");
}

namespace {

// A failover: the primary killed at 1 s, a node writable 7.5 s later.
lt::chaos_event failover() {
  lt::chaos_event e;
  e.kind = "failover";
  e.at_s = 1;
  e.injected = true;
  e.ended = e.down_from = t0 + 1s;
  e.writable_s = 7.5;
  return e;
}

}  // namespace

TEST_CASE("chaos: a failover counts the 503s until the first 201 and its delay after writable") {
  lt::chaos_summary s;
  s.events.push_back(failover());
  std::deque<lt::attempt> load{sent(500ms, 2ms, 201), sent(2s, 1ms, 503), sent(5s, 1ms, 503),
                               sent(8600ms, 5ms, 201), sent(9s, 5ms, 201)};
  lt::assess_faults(s, load, t0 + 30s);
  const auto& e = s.events.front();
  CHECK(e.first_201_s == Approx(7.605).margin(0.001));
  CHECK(e.first_201_after_writable_s == Approx(0.105).margin(0.001));
  CHECK(e.outage_transfers == 2);  // the 201 before the kill and those after the first are not
  CHECK(e.outage_transfers_503 == 2);
  CHECK(s.problems.empty());
}

TEST_CASE("chaos: a first 201 more than 15 s after the kill is a problem") {
  lt::chaos_summary s;
  s.events.push_back(failover());
  std::deque<lt::attempt> load{sent(2s, 1ms, 503), sent(16500ms, 5ms, 201)};
  lt::assess_faults(s, load, t0 + 30s);
  REQUIRE(s.problems.size() == 1);
  CHECK_THAT(s.problems.front(), Catch::Contains("over 15 s"));
}
