#pragma once
// Integrity checks against PostgreSQL itself (read-only), after the load and
// the replays, all in one snapshot:
//   - every currency's balances, funding account included, sum to zero;
//   - no customer balance is negative;
//   - every balance equals its ledger credits minus debits (all accounts);
//   - our accounts: deposit + credits - debits of this run's ledger rows, and
//     their total per currency is the starting total;
//   - every transfer answered 201 (or confirmed by a replay) has exactly one
//     ledger row, with its id, accounts, amount and initiator;
//   - every definite refusal left no row, and no row has a key we never sent;
//   - the run's rows == acknowledged + resolved-committed.

#include "loadtest/run_record.hpp"

#include <string>
#include <vector>

namespace bankd::loadtest {

struct ledger_report {
  std::uint64_t run_rows = 0;            // ledger rows carrying this run's transfer keys
  std::uint64_t expected_rows = 0;       // acknowledged + resolved committed
  std::uint64_t unresolved_present = 0;  // unresolved requests that did commit
  std::vector<violation> violations;
};

// Throws std::runtime_error when the database cannot be read.
ledger_report verify_ledger(const std::string& database_url, const run_record& record);

}  // namespace bankd::loadtest
