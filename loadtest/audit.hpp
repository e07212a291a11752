#pragma once
// Balance audits, as in the Jepsen bank test: while transfers run, read every
// balance of the run in one snapshot (POST /audit/balances, one REPEATABLE
// READ transaction in bankd) and check that no money appeared or vanished.

#include "loadtest/bank_api.hpp"
#include "loadtest/http_connection.hpp"
#include "loadtest/run_record.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bankd::loadtest {

// What holds in any snapshot: all our accounts present, their sum per currency
// equal to the starting total, none negative, and every currency's accounts
// (its funding account included) summing to zero.
std::vector<violation> check_snapshot(const audit_reading& reading, const run_record& record);

// After the load and the replays: every balance equals its deposit plus the
// credits minus the debits of the transfers, posts and reversals known to
// have committed (holds and voids move nothing). Accounts touched by a
// request that stayed unresolved are skipped.
std::vector<violation> check_final_balances(const audit_reading& reading, const run_record& record);

struct audit_summary {
  std::uint64_t run = 0;              // readings checked
  std::uint64_t failed = 0;           // requests that brought no reading (503, timeout, ...)
  std::uint64_t violating = 0;        // readings that broke an invariant
  std::vector<violation> violations;  // the first ones, with evidence
};

// Runs on the load thread with its own connection (operator key), so audits
// never queue behind transfers on the client side.
class auditor {
 public:
  auditor(http_connection& conn, const run_record& record, std::string operator_key,
          std::chrono::milliseconds timeout);

  // Audits every `interval` until stop(); with a zero interval returns at once.
  boost::asio::awaitable<void> run_every(std::chrono::milliseconds interval);
  // One checked audit; `when` labels its evidence.
  boost::asio::awaitable<std::optional<audit_reading>> audit_once(const std::string& when);
  void stop();
  const audit_summary& summary() const noexcept { return summary_; }
  // The reason the last audit brought no reading.
  const std::string& last_failure() const noexcept { return last_failure_; }

 private:
  static constexpr std::size_t max_kept = 50;

  http_connection& conn_;
  const run_record& record_;
  std::string operator_key_;
  std::chrono::milliseconds timeout_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_;
  bool stopped_ = false;
  audit_summary summary_;
  std::string last_failure_;
};

}  // namespace bankd::loadtest
