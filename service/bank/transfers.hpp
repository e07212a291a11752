#pragma once
// Moving money: transfers between accounts, deposits from a currency's
// funding account, holds (pending transfers) and their post or void,
// reversals, batches of them, and reading one transfer.
//
// Every movement goes through the transfer engine (engine.hpp), which
// applies many of them in one SERIALIZABLE transaction. What this service
// adds is the domain's view of a request: who the initiator is (the
// idempotency scope), whose account may be debited, and the checks that need
// no database.
//
// Idempotency: (initiator, key) is unique in the ledger and written in the
// same transaction as the money moves, and the engine compares a key's
// earlier use with the whole operation: its kind (transfer or deposit),
// accounts, amount, currency, reference, metadata, timeout and the transfer
// it acts on. So a retried or replayed request
// either commits once or finds what was done; the same key for anything
// else is idempotency_key_reused. Refusals are not recorded: replaying a
// refused request evaluates it afresh.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/engine.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

struct transfer_request {
  std::int64_t from_account_id = 0;  // ignored for deposits (the funding account pays)
  std::int64_t to_account_id = 0;
  std::int64_t amount = 0;
  std::optional<std::string> currency;
  std::optional<std::string> reference;
  std::string idempotency_key;
  bool pending = false;                         // a hold: reserved now, posted or voided later
  std::optional<std::int64_t> timeout_seconds;  // pending only, 1 s .. 30 days; none: the hold never expires
  std::optional<std::string> metadata;          // a JSON object (text), checked by the caller
};

// A post, void or reversal of transfer `transfer_id`.
struct settle_request {
  std::int64_t transfer_id = 0;
  std::int64_t amount = 0;               // post, reverse: 0 for all of it; void: unused
  std::optional<std::string> reference;  // reverse only
  std::optional<std::string> metadata;
  std::string idempotency_key;
};

// One item of a batch: a transfer (or hold), or a post or void of a hold.
struct batch_item {
  enum class action { transfer, post, void_hold };
  action what = action::transfer;
  transfer_request transfer;  // action::transfer
  settle_request settle;      // action::post and action::void_hold
};

using transfer_outcome = movement_outcome;

inline constexpr std::size_t max_batch_transfers = 1000;
inline constexpr std::int64_t max_hold_seconds = 30 * 24 * 3600;

class transfer_service {
public:
  transfer_service(store& db, transfer_engine& engine) : db_(db), engine_(engine) {}

  // A transfer, or with req.pending a hold on the debited account.
  boost::asio::awaitable<result<transfer_outcome>> transfer(call& c, const transfer_request& req);
  // Operator only (the caller checks): money into `req.to_account_id`.
  boost::asio::awaitable<result<transfer_outcome>> deposit(call& c, const transfer_request& req);
  // By the owner of the hold's debited account or the operator; the outcome
  // shows the hold, now posted or voided.
  boost::asio::awaitable<result<transfer_outcome>> post(call& c, const settle_request& req);
  boost::asio::awaitable<result<transfer_outcome>> void_hold(call& c, const settle_request& req);
  // By the owner of the original's credited account or the operator: money
  // back to the sender; the outcome is the reversal.
  boost::asio::awaitable<result<transfer_outcome>> reverse(call& c, const settle_request& req);
  // The sweeper's work (operator only): expire these holds.
  boost::asio::awaitable<std::vector<result<transfer_outcome>>> expire(call& c, const std::vector<std::int64_t>& ids);
  // Up to max_batch_transfers items, answered one by one, in order;
  // `atomic`: all commit or none does.
  boost::asio::awaitable<std::vector<result<transfer_outcome>>> transfer_batch(
      call& c, const std::vector<batch_item>& items, bool atomic);
  // Readable by the owners of either account.
  boost::asio::awaitable<result<bank::transfer>> get(call& c, std::int64_t id);

private:
  movement transfer_movement(const call& c, const transfer_request& req) const;
  movement settle_movement(const call& c, movement::kind what, const settle_request& req) const;
  boost::asio::awaitable<result<transfer_outcome>> submit_one(call& c, movement m);

  store& db_;
  transfer_engine& engine_;
};

}  // namespace bankd::bank
