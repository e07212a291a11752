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
#include <map>
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

TEST_CASE("transfers, holds, posts, voids and reversals with short timeouts, uniform and hot, keep every invariant") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto o = small_run({&server}, db, 6s);
  o.mix = lt::parse_mix("transfer=70,pending=20,post=7,void=3,reverse=2");
  o.hold_timeout_max = 2;
  const auto hot = GENERATE(false, true);
  if (hot) {
    o.pick = lt::parse_distribution("hot:4");
    o.concurrency = 32;
  }
  const auto result = run_and_print(o);
  const auto& r = result.report;
  CHECK(r.result == lt::verdict::ok);
  CHECK(r.violations.empty());
  CHECK(r.errors == 0);
  CHECK(r.ledger_rows == r.acknowledged + r.resolved_committed);
  // Every kind was acknowledged, and holds ended every way.
  std::map<lt::operation, int> acknowledged;
  for (const auto& a : result.record.attempts) acknowledged[a.what] += a.committed();
  for (const auto op : {lt::operation::transfer, lt::operation::pending, lt::operation::post,
                        lt::operation::void_hold, lt::operation::reverse}) {
    INFO(lt::operation_name(op));
    CHECK(acknowledged[op] > 0);
  }
  // Uniform: more holds than settlements find their hold, so some expire.
  // (On 4 hot accounts the few holds that fit are all settled in time.)
  if (!hot) CHECK(test::pg_session(db.conninfo()).scalar_int("SELECT count(*) FROM transfers WHERE kind = 'expire'") > 0);
}

TEST_CASE("the verifier reports each broken invariant of holds, reversals and the balance history") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo(), 2, 8);
  auto o = small_run({&server}, db, 3s);
  o.mix = lt::parse_mix("transfer=60,pending=30,post=5,void=5,reverse=5");
  o.hold_timeout_max = 600;  // holds stay open
  const auto result = run_and_print(o);
  REQUIRE(result.report.result == lt::verdict::ok);
  test::pg_session sql(db.conninfo());
  // The ledger is append-only (migration 007); these corruptions need the
  // trigger off, as only a superuser can do.
  sql.exec("ALTER TABLE transfers DISABLE TRIGGER transfers_append_only");
  // Each change is committed for the verifier's own session to see, and undone after.
  const auto expect = [&](const std::string& change, const std::string& undo, std::initializer_list<const char*> checks) {
    INFO(change);
    sql.exec(change);
    const auto ledger = lt::verify_ledger(db.conninfo(), result.record);
    sql.exec(undo);
    for (const auto& v : ledger.violations) std::cout << "expected violation " << v.check << ": " << v.evidence << "\n";
    for (const auto* check : checks) {
      INFO(check);
      CHECK(has_check(ledger.violations, check));
    }
  };
  const auto id = [&](const std::string& query) { return std::to_string(sql.scalar_int(query)); };
  const auto held = id("SELECT account_id FROM holds ORDER BY transfer_id LIMIT 1");
  expect("UPDATE accounts SET held = held + 1 WHERE id = " + held,
         "UPDATE accounts SET held = held - 1 WHERE id = " + held, {"ledger_held"});
  const auto last = id("SELECT max(id) FROM transfers");
  expect("UPDATE transfers SET to_balance_after = to_balance_after + 1 WHERE id = " + last,
         "UPDATE transfers SET to_balance_after = to_balance_after - 1 WHERE id = " + last, {"ledger_balance_after"});
  const auto post = id("SELECT max(id) FROM transfers WHERE kind = 'post' AND amount > 1");
  expect("UPDATE transfers SET amount = amount - 1 WHERE id = " + post,
         "UPDATE transfers SET amount = amount + 1 WHERE id = " + post,
         {"ledger_balance", "ledger_row_differs", "ledger_balance_after"});
  const auto reversal = id("SELECT min(id) FROM transfers WHERE kind = 'reverse'");
  const auto swap = "UPDATE transfers SET from_account_id = to_account_id, to_account_id = from_account_id WHERE id = " + reversal;
  expect(swap, swap, {"ledger_reversal", "ledger_balance", "ledger_row_differs"});
  const auto hold = id("SELECT min(transfer_id) FROM holds");
  expect("DELETE FROM holds WHERE transfer_id = " + hold,
         "INSERT INTO holds SELECT id, from_account_id, amount, expires_at FROM transfers WHERE id = " + hold,
         {"ledger_holds_table"});
  const auto settled = id("SELECT pending_id FROM transfers WHERE kind = 'post' ORDER BY id LIMIT 1");
  expect("DROP INDEX transfers_one_settlement_per_hold; "
         "INSERT INTO transfers (kind, from_account_id, to_account_id, currency, amount, initiated_by, "
         "idempotency_key, pending_id, from_balance_after, from_held_after, to_balance_after, to_held_after) "
         "SELECT 'void', from_account_id, to_account_id, currency, amount, 0, 'twice', id, 0, 0, 0, 0 "
         "FROM transfers WHERE id = " + settled,
         "DELETE FROM transfers WHERE idempotency_key = 'twice'; "
         "CREATE UNIQUE INDEX transfers_one_settlement_per_hold ON transfers (pending_id) WHERE pending_id IS NOT NULL",
         {"ledger_settlement"});
  const auto customer = id("SELECT min(id) FROM accounts WHERE kind = 'customer'");
  const auto before = id("SELECT held FROM accounts WHERE id = " + customer);
  expect("ALTER TABLE accounts DROP CONSTRAINT accounts_available_non_negative; "
         "UPDATE accounts SET held = balance + 1 WHERE id = " + customer,
         "UPDATE accounts SET held = " + before + " WHERE id = " + customer + "; "
         "ALTER TABLE accounts ADD CONSTRAINT accounts_available_non_negative CHECK (kind = 'funding' OR balance >= held)",
         {"ledger_available", "ledger_held"});
  CHECK(lt::verify_ledger(db.conninfo(), result.record).violations.empty());  // all undone
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
