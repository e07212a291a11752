#pragma once
// Moving money: transfers between accounts, deposits from a currency's
// funding account, batches of transfers, and reading one transfer.
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
// accounts, amount, currency and reference. So a retried or replayed request
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
};

using transfer_outcome = movement_outcome;

inline constexpr std::size_t max_batch_transfers = 1000;

class transfer_service {
public:
  transfer_service(store& db, transfer_engine& engine) : db_(db), engine_(engine) {}

  boost::asio::awaitable<result<transfer_outcome>> transfer(call& c, const transfer_request& req);
  // Operator only (the caller checks): money into `req.to_account_id`.
  boost::asio::awaitable<result<transfer_outcome>> deposit(call& c, const transfer_request& req);
  // Up to max_batch_transfers transfers, answered one by one, in order;
  // `atomic`: all commit or none does.
  boost::asio::awaitable<std::vector<result<transfer_outcome>>> transfer_batch(
      call& c, const std::vector<transfer_request>& reqs, bool atomic);
  // Readable by the owners of either account.
  boost::asio::awaitable<result<bank::transfer>> get(call& c, std::int64_t id);

private:
  movement transfer_movement(const call& c, const transfer_request& req) const;

  store& db_;
  transfer_engine& engine_;
};

}  // namespace bankd::bank
