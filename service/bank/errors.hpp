#pragma once
// The domain's outcomes other than success, as values. Every operation of
// service/bank returns result<T>: a value, or an error with a bank::errc (what
// the caller acts on; the HTTP side maps each to a status and a code) and a
// message for humans. Nothing here knows about HTTP.

#include "db/error.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace bankd::bank {

enum class errc {
  // Refusals: the request was understood and decided; nothing changed.
  invalid = 1,             // a value the domain cannot accept (message says which)
  same_account,            // a transfer from an account to itself
  forbidden,               // the caller may not act on this resource
  not_found,               // the resource the request names (in its path) does not exist
  account_not_found,       // an account named in the request body does not exist
  insufficient_funds,
  currency_mismatch,
  account_closed,
  account_frozen,          // a frozen account (or one of a frozen user) cannot send
  idempotency_key_reused,  // the key was used for a different request
  email_taken,
  balance_not_zero,        // only an empty account can be closed
  user_holds_money,        // only a user with empty accounts can be deleted
  transfer_refused,        // the accounts changed while the transfer ran; retry
  batch_failed,            // an atomic batch was not applied because another item failed
  transfer_not_pending,    // post or void of a transfer that is not an open hold
  amount_exceeds_pending,  // a post of more than the hold
  transfer_not_reversible,     // a reversal of a transfer that moved no money, or of a reversal
  reversal_exceeds_remainder,  // a reversal of more than is left to give back
  limit_reached,           // a cap (accounts or keys per user, webhooks) is reached
  url_not_allowed,         // a webhook URL whose host is not on the allowlist
  rate_limited,            // this client failed to authenticate too often; retry later
  // Not the caller's fault; retry later.
  service_unavailable,  // nothing was sent to the database (pool exhausted, database unreachable)
  outcome_unknown,      // the change was sent and its outcome is unknown; replay with the same key
  retries_exhausted,    // too much contention: the database refused every attempt
  internal,             // a bug or an unexpected database error; details only in the log
};

const boost::system::error_category& bank_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), bank_category()};
}

// The stable, machine-readable name of an outcome, e.g. "insufficient_funds".
std::string_view code_name(errc e) noexcept;

// Whether a failed database call may have changed something: a read that
// fails changed nothing, a write that was sent may have committed.
enum class effect { read, write };

// The database failure behind an error, kept for the log: from_db() makes
// it and does not log; whoever ends the request logs it once, with the
// request's id (log_failure()), so every log line of a request names it.
struct failure_note {
  std::string operation;
  db::error cause;
  effect kind;
};

struct error {
  errc code;
  std::string message;
  std::shared_ptr<const failure_note> note;  // set by from_db; null for refusals
};

// Writes the log line of a database failure (warn for outages and
// contention, error for the unexpected) with `request_id`.
void log_failure(const failure_note& note, std::string_view request_id);

// "insufficient_funds: account 7 has insufficient funds"
std::ostream& operator<<(std::ostream& out, const error& e);

[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

// What a database failure means to the caller, with the server's
// diagnostics in its note: service_unavailable when nothing reached the database,
// outcome_unknown when a write was sent and its answer lost, retries_exhausted
// after repeated serialization failures, internal for everything else.
error from_db(const db::error& e, std::string_view operation, effect kind);

}  // namespace bankd::bank

template <>
struct boost::system::is_error_code_enum<bankd::bank::errc> : std::true_type {};
