#pragma once
// Moving money: transfers between accounts and deposits from a currency's
// funding account.
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
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bankd::bank {

struct transfer_request {
  std::int64_t from_account_id = 0;  // ignored for deposits (the funding account pays)
  std::int64_t to_account_id = 0;
  std::int64_t amount = 0;
  std::optional<std::string> currency;
  std::optional<std::string> reference;
  std::string idempotency_key;
};

struct transfer_outcome {
  transfer record;
  bool replayed = false;  // an earlier request with this key already did it
};

class transfer_service {
public:
  explicit transfer_service(store& db) : db_(db) {}

  boost::asio::awaitable<result<transfer_outcome>> transfer(call& c, const transfer_request& req);
  // Operator only (the caller checks): money into `req.to_account_id`.
  boost::asio::awaitable<result<transfer_outcome>> deposit(call& c, const transfer_request& req);
  // Readable by the owners of either account.
  boost::asio::awaitable<result<bank::transfer>> get(call& c, std::int64_t id);

private:
  enum class kind { transfer, deposit };
  boost::asio::awaitable<result<transfer_outcome>> move_money(call& c, const transfer_request& req,
                                                              kind what, db::params values);
  boost::asio::awaitable<result<transfer_outcome>> explain_failure(call& c, const transfer_request& req,
                                                                   const db::error& failure, kind what);

  store& db_;
};

}  // namespace bankd::bank
