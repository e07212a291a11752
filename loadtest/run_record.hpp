#pragma once
// What a run knows about its accounts and its transfer requests: the evidence
// every integrity check works from. Filled on the load thread; read by the
// checks after the load has stopped.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bankd::loadtest {

struct account {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string api_key;  // the owner's: transfers debiting this account use it
  std::string currency;
  std::int64_t deposit = 0;  // its starting balance
};

// What the first answer to a transfer request said.
enum class outcome : std::uint8_t {
  acknowledged,  // 201: the transfer happened
  refused,       // a 4xx: it did not, and left no ledger row
  ambiguous,     // 5xx, timeout or dropped connection: unknown until replayed
  unsent,        // the connection could not be opened: it never reached bankd
};

// What replaying an ambiguous request taught us.
enum class resolution : std::uint8_t {
  not_needed,
  committed,      // the replay answered 201: the transfer is in the ledger (once)
  not_committed,  // the replay was refused (4xx): it is not
  unresolved,     // the replay never got a definite answer
};

// What a request asks for (--mix).
enum class operation : std::uint8_t { transfer, pending, post, void_hold, reverse };
inline std::string_view operation_name(operation op) noexcept {
  switch (op) {
    case operation::transfer: return "transfer";
    case operation::pending: return "pending";
    case operation::post: return "post";
    case operation::void_hold: return "void";
    case operation::reverse: return "reverse";
  }
  return "transfer";
}
// Whether its ledger row moves `amount` from `from` to `to`.
inline bool moves_money(operation op) noexcept {
  return op == operation::transfer || op == operation::post || op == operation::reverse;
}

struct attempt {
  using time_point = std::chrono::steady_clock::time_point;

  std::uint64_t seq = 0;   // the Idempotency-Key's suffix
  operation what = operation::transfer;
  // Indexes into run_record::accounts: the debited and the credited
  // account of its ledger row (post, void: the hold's; reverse: the
  // original's receiver and sender). The debited account's owner sends it.
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::int64_t amount = 0;  // of its ledger row (void: the hold's, which it releases)
  std::uint64_t target = 0;        // post, void, reverse: the attempt (seq) it acts on
  std::int64_t timeout_seconds = 0;  // pending: the hold's
  std::int64_t transfer_id = 0;  // from the 201 or 200 (first answer or replay); post, void: the hold's
  std::uint16_t status = 0;      // of the first answer; 0: none came
  bool retry_after = false;      // the first answer had a Retry-After header
  bool abandoned = false;        // cut off on purpose by --chaos drop-clients
  // When the first send began and ended (answer, error or deadline): --chaos
  // matches them against the faults' times.
  time_point sent_at, answered_at;
  outcome first = outcome::ambiguous;
  resolution replay = resolution::not_needed;

  bool committed() const noexcept {
    return first == outcome::acknowledged || replay == resolution::committed;
  }
  bool certain() const noexcept {
    return first != outcome::ambiguous || replay != resolution::unresolved;
  }
};

// A broken invariant, with what shows it.
struct violation {
  std::string check;
  std::string evidence;
};

struct run_record {
  std::string run_id;  // unique per run; prefixes every Idempotency-Key and email
  std::vector<account> accounts;
  std::deque<attempt> attempts;  // a deque: references stay valid while workers append

  std::string transfer_key(std::uint64_t seq) const { return run_id + "-t" + std::to_string(seq); }
  std::string deposit_key(std::size_t index) const { return run_id + "-d" + std::to_string(index); }
  // Money in our accounts before the load, per currency.
  std::map<std::string, std::int64_t> start_totals() const {
    std::map<std::string, std::int64_t> totals;
    for (const auto& a : accounts) totals[a.currency] += a.deposit;
    return totals;
  }
  // Account id -> index into accounts.
  std::unordered_map<std::int64_t, std::uint32_t> index_by_id() const {
    std::unordered_map<std::int64_t, std::uint32_t> index;
    for (std::uint32_t i = 0; i < accounts.size(); ++i) index.emplace(accounts[i].id, i);
    return index;
  }
};

}  // namespace bankd::loadtest
