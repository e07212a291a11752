#pragma once
// Moving money: transfers between accounts and deposits from a currency's
// funding account. Domain logic only; the HTTP side is in transfer_routes.
//
// The integrity core. One transfer is one SERIALIZABLE transaction holding a
// single statement: debit (the balance CHECK makes overdraft impossible),
// credit, and the ledger row carrying the idempotency key. Every refusal (no
// such account, not the caller's, other currency, closed, insufficient funds,
// key already used) makes that statement fail, so a refused transfer writes
// nothing, and a half-done one cannot even be expressed. BEGIN, the statement
// and COMMIT travel in one pipeline: one round trip unless PostgreSQL reports a
// serialization failure or deadlock, which re-runs the whole transaction.
//
// Idempotency: (initiator, key) is unique in the ledger and written in the
// same transaction as the money moves, so a retried or replayed request either
// commits once or finds the committed row. Only after a failure does a second
// round trip look for that row (a replay) and, failing that, at the accounts
// (why the transfer was refused). Refusals are not recorded: replaying a
// refused request evaluates it afresh.

#include "bank/api_error.hpp"
#include "bank/auth.hpp"
#include "db/pool.hpp"
#include "db/transaction.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bankd::metrics {
class registry;
}

namespace bankd::bank {

struct transfer_request {
  std::int64_t from_account_id = 0;  // ignored for deposits (the funding account pays)
  std::int64_t to_account_id = 0;
  std::int64_t amount = 0;
  std::optional<std::string> currency;
  std::optional<std::string> reference;
  std::string idempotency_key;
};

struct transfer_record {
  std::int64_t id = 0;
  std::int64_t from_account_id = 0;
  std::int64_t to_account_id = 0;
  std::string currency;
  std::int64_t amount = 0;
  std::optional<std::string> reference;
  std::string created_at;
};

struct transfer_outcome {
  transfer_record record;
  bool replayed = false;  // an earlier request with this key already did it
};

// One per io_context thread.
class transfer_service {
public:
  transfer_service(db::connection_pool& pool, db::retry_policy policy, metrics::registry& stats)
      : pool_(pool), policy_(policy), stats_(stats) {}

  // Attempts used by the last call, for the request log.
  int last_attempts() const noexcept { return last_attempts_; }

  boost::asio::awaitable<outcome<transfer_outcome>> transfer(const identity& caller,
                                                             const transfer_request& req);
  // Operator only (checked by the caller): money into `req.to_account_id`.
  boost::asio::awaitable<outcome<transfer_outcome>> deposit(const transfer_request& req);

private:
  boost::asio::awaitable<outcome<transfer_outcome>> explain_failure(
      const identity& caller, const transfer_request& req, const db::error& failure, bool deposit);

  db::connection_pool& pool_;
  db::retry_policy policy_;
  metrics::registry& stats_;
  int last_attempts_ = 0;
};

}  // namespace bankd::bank
