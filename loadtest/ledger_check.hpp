#pragma once
// Integrity checks against PostgreSQL itself (read-only), after the load and
// the replays, all in one snapshot:
//   - the whole ledger's invariants (ledger_invariants.hpp): currency sums,
//     balances against the money-moving rows, held against the open holds,
//     available >= 0, settlements, reversals, balance history;
//   - our accounts: deposit + credits - debits of this run's money-moving
//     rows, and their total per currency is the starting total;
//   - every request answered 201 or 200 (or confirmed by a replay) has
//     exactly one ledger row, with its kind, id, accounts, amount, initiator
//     and the hold or transfer it settles or reverses: every acknowledged
//     post, void and reversal exactly once;
//   - every definite refusal left no row, and no row has a key we never sent;
//   - the run's rows == acknowledged + resolved-committed.

#include "loadtest/run_record.hpp"

#include <string>
#include <vector>

namespace bankd::loadtest {

// This run's holds, as the ledger has them at the check.
struct hold_summary {
  std::int64_t made = 0, posted = 0, voided = 0, expired = 0, open = 0;
  std::int64_t max_expiry_lag_ms = 0;  // the latest expiry after its deadline
};

struct ledger_report {
  hold_summary holds;
  std::uint64_t run_rows = 0;            // ledger rows carrying this run's transfer keys
  std::uint64_t expected_rows = 0;       // acknowledged + resolved committed
  std::uint64_t unresolved_present = 0;  // unresolved requests that did commit
  std::vector<violation> violations;
};

// Throws std::runtime_error when the database cannot be read.
ledger_report verify_ledger(const std::string& database_url, const run_record& record);

}  // namespace bankd::loadtest
