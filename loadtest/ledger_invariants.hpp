#pragma once
// What must hold for the whole ledger at any committed state, checked in
// PostgreSQL itself (read-only, one snapshot). Which rows move money is
// written here again, independently of bankd's SQL (ledger_moves_money in
// migration 010): transfer, deposit, post and reverse.
//
// The four invariants:
//   ledger_currency_sum   per currency, all balances sum to 0;
//   ledger_balance        each balance = credits - debits of its money-moving rows;
//   ledger_held           each held = the amounts of its open holds (pending
//                         rows that no post, void or expire row settles);
//   ledger_available      no customer account has balance < held, and the
//                         constraint accounts_available_non_negative exists,
//                         validated (the database enforces it).
// And what the two-phase rows and the balance history promise:
//   ledger_settlement     a hold is settled at most once, by a row with its
//                         accounts and currency: a post of at most its
//                         amount before its deadline, a void before its
//                         deadline, or an expiry of its amount at or after it;
//   ledger_reversal       a reversal gives back, from receiver to sender, a
//                         transfer, deposit or post, and never more than it moved;
//   ledger_holds_table    the holds table lists exactly the open holds;
//   ledger_balance_after  every row's balance_after and held_after, both
//                         sides, equal the running totals of the account's
//                         rows in (created_at, id) order.

#include "loadtest/pg_reader.hpp"
#include "loadtest/run_record.hpp"

#include <string>
#include <vector>

namespace bankd::loadtest {

// Appends what it finds to `out` (at most max_evidence rows per check).
void check_invariants(pg_reader& db, std::vector<violation>& out);

// The same, in a session of its own. Throws std::runtime_error when the
// database cannot be read.
std::vector<violation> verify_invariants(const std::string& database_url);

// Keeps at most max_evidence violations per check.
inline constexpr std::size_t max_evidence = 20;
void keep(std::vector<violation>& out, std::string check, std::string evidence);

}  // namespace bankd::loadtest
