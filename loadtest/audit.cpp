#include "loadtest/audit.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iomanip>
#include <map>
#include <sstream>
#include <unordered_set>

namespace bankd::loadtest {
namespace net = boost::asio;

namespace {

std::string money(std::int64_t v) {
  return std::to_string(v);
}

void check_totals(const audit_reading& reading, const run_record& record,
                  std::vector<violation>& out) {
  std::map<std::string, std::int64_t> ours;
  for (const auto& b : reading.accounts) ours[b.currency] += b.balance;
  for (const auto& [currency, expected] : record.start_totals())
    if (ours[currency] != expected)
      out.push_back({"audit_total", currency + ": our accounts hold " + money(ours[currency]) +
                                        ", started with " + money(expected) + " (difference " +
                                        money(ours[currency] - expected) + ")"});
  for (const auto& t : reading.totals)
    if (t.sum != 0)
      out.push_back({"audit_currency_sum", t.currency + ": all accounts sum to " + money(t.sum) +
                                               " (customers " + money(t.customer_total) +
                                               ", funding " + money(t.funding_balance) +
                                               "), not 0"});
}

}  // namespace

std::vector<violation> check_snapshot(const audit_reading& reading, const run_record& record) {
  std::vector<violation> out;
  const auto index = record.index_by_id();
  std::unordered_set<std::int64_t> seen;
  for (const auto& b : reading.accounts) {
    const auto it = index.find(b.id);
    if (it == index.end()) {
      out.push_back({"audit_accounts", "audit returned account " + std::to_string(b.id) +
                                           ", which we did not ask for"});
      continue;
    }
    seen.insert(b.id);
    if (b.balance < 0)
      out.push_back({"audit_negative",
                     "account " + std::to_string(b.id) + " has balance " + money(b.balance)});
    if (b.currency != record.accounts[it->second].currency)
      out.push_back({"audit_accounts", "account " + std::to_string(b.id) + " is in " + b.currency +
                                           ", not " + record.accounts[it->second].currency});
  }
  if (seen.size() != record.accounts.size())
    out.push_back({"audit_accounts", "audit returned " + std::to_string(seen.size()) + " of our " +
                                         std::to_string(record.accounts.size()) + " accounts"});
  check_totals(reading, record, out);
  return out;
}

std::vector<violation> check_final_balances(const audit_reading& reading,
                                            const run_record& record) {
  std::vector<std::int64_t> expected;
  std::vector<bool> uncertain(record.accounts.size(), false);
  for (const auto& a : record.accounts) expected.push_back(a.deposit);
  for (const auto& t : record.attempts) {
    if (!t.certain()) uncertain[t.from] = uncertain[t.to] = true;
    // Holds and voids move nothing; posts and reversals move their amount
    // between the accounts of their row.
    if (!t.committed() || !moves_money(t.what)) continue;
    expected[t.from] -= t.amount;
    expected[t.to] += t.amount;
  }
  std::vector<violation> out;
  const auto index = record.index_by_id();
  for (const auto& b : reading.accounts) {
    const auto it = index.find(b.id);
    if (it == index.end() || uncertain[it->second] || expected[it->second] == b.balance) continue;
    out.push_back({"balance_matches_acknowledged",
                   "account " + std::to_string(b.id) + " holds " + money(b.balance) + "; deposit " +
                       money(record.accounts[it->second].deposit) +
                       " plus the committed transfers gives " + money(expected[it->second])});
  }
  return out;
}

auditor::auditor(http_connection& conn, const run_record& record, std::string operator_key,
                 std::chrono::milliseconds timeout)
    : conn_(conn),
      record_(record),
      operator_key_(std::move(operator_key)),
      timeout_(timeout),
      timer_(conn.executor()),
      started_(std::chrono::steady_clock::now()) {}

net::awaitable<std::optional<audit_reading>> auditor::audit_once(const std::string& when) {
  auto reading = co_await read_audit(conn_, record_, operator_key_, timeout_);
  if (!reading) {
    ++summary_.failed;
    last_failure_ = reading.error();
    co_return std::nullopt;
  }
  ++summary_.run;
  auto found = check_snapshot(*reading, record_);
  if (!found.empty()) ++summary_.violating;
  for (auto& v : found) {
    if (summary_.violations.size() >= max_kept) break;
    v.evidence = when + ": " + v.evidence;
    summary_.violations.push_back(std::move(v));
  }
  co_return std::move(*reading);
}

net::awaitable<void> auditor::run_every(std::chrono::milliseconds interval) {
  if (interval.count() == 0) co_return;
  started_ = std::chrono::steady_clock::now();
  while (!stopped_) {
    timer_.expires_after(interval);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    if (stopped_) break;
    const std::chrono::duration<double> at = std::chrono::steady_clock::now() - started_;
    std::ostringstream when;
    when << "audit at " << std::fixed << std::setprecision(1) << at.count() << " s";
    co_await audit_once(when.str());
  }
}

void auditor::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace bankd::loadtest
