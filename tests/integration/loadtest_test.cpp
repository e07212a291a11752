// bank-loadtest against bankd running in this process on a scratch database:
// integrity holds (verdict OK) under uniform load, under a hot spot that
// forces serialization conflicts and across two instances; and the ledger
// checker, shown a tampered balance, fails (so an OK means something).

#include "loadtest/ledger_check.hpp"
#include "loadtest/runner.hpp"
#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"
#include "util/log.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>

using namespace bankd;
using namespace std::chrono_literals;
namespace lt = bankd::loadtest;

namespace {

// 200 accounts keep setup short; the rest are the tool's defaults.
lt::options small_run(const std::vector<const test::bankd_server*>& servers,
                      const test::scratch_database& db, std::chrono::milliseconds duration) {
  log::set_level(log::level::warn);  // bankd logs every request at info
  lt::options o;
  for (const auto* s : servers) o.urls.push_back({"127.0.0.1", s->port()});
  o.operator_key = test::operator_key;
  o.database_url = db.conninfo();
  o.accounts = 200;
  o.duration = duration;
  o.progress = lt::progress_mode::plain;
  return o;
}

lt::run_result run_and_print(const lt::options& o) {
  auto result = lt::run(o);
  lt::print_table(std::cout, result.report);
  return result;
}

bool has_check(const std::vector<lt::violation>& found, const std::string& check) {
  return std::any_of(found.begin(), found.end(), [&](const auto& v) { return v.check == check; });
}

}  // namespace

TEST_CASE("a 10-second uniform run keeps every invariant") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  const auto result = run_and_print(small_run({&server}, db, 10s));
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  CHECK(r.ledger_checked);
  CHECK(r.acknowledged > 500);
  CHECK(r.throughput > 0);
  CHECK(r.insufficient_funds > 0);  // balances spread until some fall below amounts
  CHECK(r.audits_run >= 8);
  CHECK(r.ledger_rows == r.acknowledged + r.resolved_committed);
}

TEST_CASE("a 10-second hot run on 4 accounts has no conflicts, no 503 and keeps every invariant") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto o = small_run({&server}, db, 10s);
  o.pick = lt::parse_distribution("hot:4");
  o.concurrency = 32;
  const auto result = run_and_print(o);
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  // The engine's batches hold one advisory lock: bankd's own writers never
  // conflict, so a hot account costs no retry and no transfer fails for it.
  REQUIRE(r.serialization_retries());
  CHECK(*r.serialization_retries() == 0);
  for (const auto& [label, count] : r.statuses) {
    INFO(label << ": " << count);
    CHECK(label.rfind("503", 0) != 0);
  }
  CHECK(r.acknowledged > 0);
}

TEST_CASE("a run spread over two instances on one database keeps every invariant") {
  test::scratch_database db;
  test::bankd_server first(db.conninfo(), 1, 6);
  test::bankd_server second(db.conninfo(), 1, 6);
  auto o = small_run({&first, &second}, db, 5s);
  o.pick = lt::parse_distribution("zipf:1.1");
  const auto result = run_and_print(o);
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  CHECK(r.urls.size() == 2);
  CHECK(r.acknowledged > 100);
}

TEST_CASE("two instances, 64 clients on 4 hot accounts: no 503, no conflict, every invariant") {
  test::scratch_database db;
  test::bankd_server first(db.conninfo(), 1, 6);
  test::bankd_server second(db.conninfo(), 1, 6);
  auto o = small_run({&first, &second}, db, 6s);
  o.pick = lt::parse_distribution("hot:4");
  o.concurrency = 64;
  const auto result = run_and_print(o);
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  REQUIRE(r.serialization_retries());
  CHECK(*r.serialization_retries() == 0);
  for (const auto& [label, count] : r.statuses) {
    INFO(label << ": " << count);
    CHECK(label.rfind("503", 0) != 0);
  }
  CHECK(r.acknowledged > 100);
}

TEST_CASE("the batch API under load, uniform and hot, keeps every invariant") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto o = small_run({&server}, db, 5s);
  o.batch = 25;
  o.pick = GENERATE(as<std::string>{}, "uniform", "hot:4") == "uniform" ? lt::parse_distribution("uniform")
                                                                         : lt::parse_distribution("hot:4");
  const auto result = run_and_print(o);
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  CHECK(r.ledger_checked);
  CHECK(r.acknowledged > 500);
  CHECK(r.insufficient_funds > 0);  // refused items inside batches are answered on their own
  CHECK(r.ledger_rows == r.acknowledged + r.resolved_committed);
}

TEST_CASE("the ledger checker reports a balance changed behind the ledger's back") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto o = small_run({&server}, db, 2s);
  const auto result = run_and_print(o);
  REQUIRE(result.report.result == lt::verdict::ok);

  const auto tampered = std::to_string(result.record.accounts[7].id);
  test::pg_session(db.conninfo())
      .exec("UPDATE accounts SET balance = balance + 1 WHERE id = " + tampered);
  const auto ledger = lt::verify_ledger(db.conninfo(), result.record);
  for (const auto& v : ledger.violations)
    std::cout << "expected violation " << v.check << ": " << v.evidence << "\n";
  CHECK(has_check(ledger.violations, "ledger_currency_sum"));
  CHECK(has_check(ledger.violations, "ledger_balance"));
  CHECK(has_check(ledger.violations, "ledger_account"));
  CHECK(has_check(ledger.violations, "ledger_total"));
  const bool names_account =
      std::any_of(ledger.violations.begin(), ledger.violations.end(), [&](const auto& v) {
        return v.evidence.find("account " + tampered + " ") != std::string::npos;
      });
  CHECK(names_account);
}
