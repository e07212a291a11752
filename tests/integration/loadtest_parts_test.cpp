// The load tester's plain parts, without sockets or a database: histogram
// arithmetic, option parsing, account choice, answer classification, metrics
// scraping and the snapshot check.

#include "loadtest/audit.hpp"
#include "loadtest/bank_api.hpp"
#include "loadtest/histogram.hpp"
#include "loadtest/options.hpp"
#include "loadtest/plot.hpp"
#include "loadtest/workload.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include <catch2/catch.hpp>

#include <map>

namespace lt = bankd::loadtest;

TEST_CASE("histogram buckets keep values within 1/128 and quantiles never understate") {
  for (std::uint64_t v : {0ULL, 1ULL, 255ULL, 256ULL, 257ULL, 1000ULL, 123456ULL, 987654321ULL}) {
    const auto bucket = lt::histogram::bucket_of(v);
    const auto high = lt::histogram::highest_in(bucket);
    CHECK(high >= v);
    CHECK(static_cast<double>(high - v) <= static_cast<double>(v) / 128.0 + 1);
    if (bucket > 0) CHECK(lt::histogram::highest_in(bucket - 1) < v);
  }
  lt::histogram h;
  for (std::uint64_t v = 1; v <= 10'000; ++v) h.record(v);
  CHECK(h.count() == 10'000);
  CHECK(h.max() == 10'000);
  CHECK(h.quantile(0.5) >= 5'000);
  CHECK(h.quantile(0.5) <= 5'040);
  CHECK(h.quantile(0.99) >= 9'900);
  CHECK(h.quantile(1.0) == 10'000);
  lt::histogram other;
  other.record(50'000);
  h.merge(other);
  CHECK(h.max() == 50'000);
  h.reset();
  CHECK(h.quantile(0.99) == 0);
}

TEST_CASE("options parse distributions, URLs and durations") {
  CHECK(lt::parse_distribution("uniform").type == lt::distribution::kind::uniform);
  CHECK(lt::parse_distribution("zipf:1.5").skew == 1.5);
  CHECK(lt::parse_distribution("hot:4").hot_accounts == 4);
  CHECK_THROWS_AS(lt::parse_distribution("hot:1"), std::invalid_argument);
  CHECK_THROWS_AS(lt::parse_distribution("pareto"), std::invalid_argument);
  CHECK(lt::parse_url("http://127.0.0.1:18090").port == 18090);
  CHECK(lt::parse_url("http://localhost/").host == "localhost");
  CHECK_THROWS_AS(lt::parse_url("https://x:1"), std::invalid_argument);
  const auto v6 = lt::parse_url("http://[::1]:8080");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 8080);
  CHECK(v6.text() == "[::1]:8080");
  CHECK(lt::parse_url("http://[2001:db8::7]").port == 80);
  CHECK(lt::parse_url("http://127.0.0.1:18090").text() == "127.0.0.1:18090");
  for (const char* bad : {"http://", "http://:80", "http://x:0", "http://x:65536", "http://x:80/path",
                          "http://x:80?q=1", "http://u@x:80", "ftp://x", "x:80", "http://[::1:80"}) {
    INFO(bad);
    CHECK_THROWS_AS(lt::parse_url(bad), std::invalid_argument);
  }
  CHECK(lt::parse_duration("500ms") == std::chrono::milliseconds(500));
  CHECK(lt::parse_duration("2m") == std::chrono::minutes(2));
  CHECK(lt::parse_duration("1.5") == std::chrono::milliseconds(1500));

  const char* argv[] = {
      "bank-loadtest",  "--url",      "http://a:1", "--url",      "http://b:2",
      "--operator-key", "k",          "--rate",     "100",        "--distribution",
      "hot:3",          "--accounts", "50",         "--duration", "3s"};
  const auto o = lt::parse_options(static_cast<int>(std::size(argv)), argv);
  CHECK(o.urls.size() == 2);
  CHECK(o.concurrency == 64);  // the open model's default
  CHECK(o.accounts == 50);
  CHECK(o.duration == std::chrono::seconds(3));

  const char* counted[] = {"bank-loadtest", "--operator-key", "k", "--transfers", "500"};
  CHECK(lt::parse_options(static_cast<int>(std::size(counted)), counted).duration.count() == 0);
}

TEST_CASE("chaos options take known faults and refuses what they cannot run without") {
  const char* chaos[] = {"bank-loadtest",
                         "--operator-key",
                         "k",
                         "--database-url",
                         "dbname=x",
                         "--chaos",
                         "kill-backends,stop-db,drop-clients",
                         "--pg-ctl",
                         "/bin/true",
                         "--chaos-interval",
                         "2s",
                         "--chaos-outage",
                         "500ms"};
  const auto o = lt::parse_options(static_cast<int>(std::size(chaos)), chaos);
  CHECK(o.chaos == std::vector<std::string>{"kill-backends", "stop-db", "drop-clients"});
  CHECK(o.chaos_interval == std::chrono::seconds(2));
  CHECK(o.chaos_outage == std::chrono::milliseconds(500));
  CHECK(o.pg_ctl == "/bin/true");

  const char* no_ctl[] = {"bank-loadtest", "--operator-key", "k", "--chaos", "restart-db"};
  CHECK_THROWS_AS(lt::parse_options(static_cast<int>(std::size(no_ctl)), no_ctl),
                  std::invalid_argument);
  const char* no_db[] = {"bank-loadtest", "--operator-key", "k", "--chaos", "kill-backends"};
  CHECK_THROWS_AS(lt::parse_options(static_cast<int>(std::size(no_db)), no_db),
                  std::invalid_argument);
  const char* failover[] = {"bank-loadtest", "--operator-key", "k", "--database-url", "dbname=x",
                            "--chaos", "failover", "--ha-ctl", "/bin/true",
                            "--replication-stall", "1500ms", "--chaos-count", "2"};
  const auto f = lt::parse_options(static_cast<int>(std::size(failover)), failover);
  CHECK(f.ha_ctl == "/bin/true");
  CHECK(f.replication_stall == std::chrono::milliseconds(1500));
  CHECK(f.chaos_count == 2);
  const char* no_ha_ctl[] = {"bank-loadtest", "--operator-key", "k", "--database-url", "dbname=x",
                             "--chaos", "failover"};
  CHECK_THROWS_AS(lt::parse_options(static_cast<int>(std::size(no_ha_ctl)), no_ha_ctl),
                  std::invalid_argument);
  const char* unknown[] = {"bank-loadtest", "--operator-key", "k", "--chaos", "flood"};
  CHECK_THROWS_AS(lt::parse_options(static_cast<int>(std::size(unknown)), unknown),
                  std::invalid_argument);
}

TEST_CASE("hot transfers stay among the first K accounts of their currency, never to themselves") {
  const std::vector<std::size_t> currency_of{0, 1, 0, 1, 0, 1, 0, 1, 0, 1};  // EUR even, USD odd
  lt::transfer_planner planner(lt::parse_distribution("hot:2"), currency_of, 1, 10, 42);
  for (int i = 0; i < 1000; ++i) {
    const auto t = planner.next();
    CHECK(t.from != t.to);
    CHECK(currency_of[t.from] == currency_of[t.to]);
    CHECK(t.from < 4);
    CHECK(t.to < 4);
    CHECK((t.amount >= 1 && t.amount <= 10));
  }
}

TEST_CASE("zipf favours low ranks") {
  lt::rank_sampler zipf(lt::parse_distribution("zipf:1.2"), 1000);
  std::mt19937_64 rng(7);
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 20'000; ++i) ++counts[zipf.draw(rng)];
  CHECK(counts[0] > counts[1]);
  CHECK(counts[1] > counts[10]);
  CHECK(counts[0] > 2'000);
}

TEST_CASE("answers to transfers are classified by what they prove") {
  const lt::account from{10, 1, "k", "EUR", 0}, to{11, 2, "k2", "EUR", 0};
  const auto created =
      lt::reply{201, R"({"id":5,"from_account_id":10,"to_account_id":11,"amount":7})", false};
  CHECK(lt::classify_transfer(created, from, to, 7, true).kind == lt::outcome::acknowledged);
  CHECK(lt::classify_transfer(created, from, to, 7, true).transfer_id == 5);
  CHECK(lt::classify_transfer(created, from, to, 8, true).anomaly != "");
  auto replayed = created;
  replayed.replayed = true;
  CHECK(lt::classify_transfer(replayed, from, to, 7, true).anomaly != "");
  CHECK(lt::classify_transfer(replayed, from, to, 7, false).anomaly == "");
  const auto poor =
      lt::reply{409, R"({"error":{"code":"insufficient_funds","message":"x"}})", false};
  CHECK(lt::classify_transfer(poor, from, to, 7, true).kind == lt::outcome::refused);
  CHECK(lt::classify_transfer(poor, from, to, 7, true).label == "409 insufficient_funds");
  const auto busy =
      lt::reply{503, R"({"error":{"code":"retries_exhausted","message":"x"}})", false};
  CHECK(lt::classify_transfer(busy, from, to, 7, true).kind == lt::outcome::ambiguous);
  const lt::reply_result timed_out = lt::exec_failure{boost::beast::error::timeout, true};
  CHECK(lt::classify_transfer(timed_out, from, to, 7, true).kind == lt::outcome::ambiguous);
  CHECK(lt::classify_transfer(timed_out, from, to, 7, true).label == "timeout");
  const lt::reply_result refused_connect =
      lt::exec_failure{boost::asio::error::connection_refused, false};
  CHECK(lt::classify_transfer(refused_connect, from, to, 7, true).kind == lt::outcome::unsent);
  CHECK(lt::transfer_body(1, 2, 3) == R"({"from_account_id":1,"to_account_id":2,"amount":3})");
}

TEST_CASE("a counter is summed over its series and nothing else") {
  const std::string text =
      "# HELP bankd_serialization_failures_total x\n"
      "# TYPE bankd_serialization_failures_total counter\n"
      "bankd_serialization_failures_total{operation=\"transfer\"} 12\n"
      "bankd_serialization_failures_total{operation=\"deposit\"} 3 1700000000\n"
      "bankd_serialization_failures_total_extra 100\n";
  CHECK(lt::sum_counter(text, "bankd_serialization_failures_total") == 15);
  CHECK(lt::sum_counter("", "x") == 0);
}

TEST_CASE("a snapshot with money missing or a non-zero currency sum is a violation") {
  lt::run_record record;
  record.run_id = "lt0";
  record.accounts = {{1, 1, "a", "EUR", 100}, {2, 2, "b", "EUR", 100}};
  lt::audit_reading good;
  good.accounts = {{1, "EUR", 150, "customer"}, {2, "EUR", 50, "customer"}};
  good.totals = {{"EUR", 200, -200, 0}};
  CHECK(lt::check_snapshot(good, record).empty());
  auto lost = good;
  lost.accounts[1].balance = 49;
  lost.totals[0].sum = -1;
  const auto found = lt::check_snapshot(lost, record);
  CHECK(found.size() == 2);
  auto partial = good;
  partial.accounts.pop_back();
  CHECK_FALSE(lt::check_snapshot(partial, record).empty());
}

TEST_CASE("the gnuplot script quotes paths and carries the data inline") {
  const auto script =
      lt::gnuplot_script("/tmp/it's.png", "t", {{1, 100, 2.5, 0}, {2, 110, 3.0, 0}});
  CHECK(script.find("set output '/tmp/it''s.png'") != std::string::npos);
  CHECK(script.find("1 100 2.5\n") != std::string::npos);
}
