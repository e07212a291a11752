#pragma once
// The transfer engine: every money movement goes through it, and it applies
// many of them in one SERIALIZABLE transaction.
//
// Requests queue per worker. While a batch is in flight, new arrivals wait
// and leave together in the next one; there is no timer, so at low load a
// batch holds one movement and adds no latency. A batch is one call of the
// SQL function bank_apply_batch (migration 004) in one pipeline, with a
// session advisory lock held around its transaction: bankd's batches, on
// every worker and every instance, run one after another and never conflict
// with each other, so a hot account costs no retries. Work of any other
// writer that conflicts still raises 40001, and the whole batch runs again.
//
// Every movement gets its own answer: committed, a replay of the earlier
// movement with its idempotency key, or a refusal with its reason. A refusal
// never stops the others; the movements of an atomic submission commit all
// or none. A batch that fails as a whole (the database went away) fails each
// of its movements the same way: outcome_unknown once it was sent.
//
// One per io_context thread; submit() is called from that thread only.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::bank {

struct movement {
  enum class kind { transfer, deposit };
  kind what = kind::transfer;
  std::int64_t from_account_id = 0;  // ignored for deposits: the currency's funding account pays
  std::int64_t to_account_id = 0;
  std::int64_t amount = 0;
  std::optional<std::string> currency;   // the currency the caller expects
  std::optional<std::string> reference;
  std::optional<std::int64_t> debit_owner;  // the debited account must be this user's; none: the operator
  std::int64_t initiator = 0;             // the idempotency scope: who asks (0: the operator)
  std::string idempotency_key;
};

struct movement_outcome {
  transfer record;
  bool replayed = false;  // an earlier request with this key already did it
};

// Told about the engine's work, for metrics; called on the engine's thread.
class engine_observer {
public:
  virtual void on_batch(std::size_t movements, double seconds, int attempts) = 0;
  virtual void on_movement(std::string_view outcome) = 0;  // committed, replayed, or a refusal's code
  virtual void on_queue(std::int64_t delta) = 0;           // movements waiting, +n queued, -n sent

protected:
  ~engine_observer() = default;
};

struct engine_params {
  // The most movements in one batch. A bigger atomic submission goes alone.
  std::size_t max_batch = 512;
  // The advisory lock every batch holds: one value for every bankd instance
  // on a database. "bankd.tx" read as a big-endian integer.
  std::int64_t lock_key = 7089068695995725944;
  // Hold the lock for the work, not for the WAL flush: commit asynchronously
  // under the lock and wait for durability after releasing it (see
  // db::tx_frame::durable_after_unlock). An answer still waits for the flush.
  bool flush_after_unlock = true;
};

class transfer_engine {
public:
  transfer_engine(store& db, engine_params params, engine_observer* observer);
  transfer_engine(const transfer_engine&) = delete;
  transfer_engine& operator=(const transfer_engine&) = delete;
  ~transfer_engine();

  // Applies `items` in the next batch and answers each, in order. The call's
  // deadline bounds the wait in the queue (then service_unavailable: nothing
  // was sent); once sent, the answer is awaited. The batch's attempts are
  // added to the call.
  boost::asio::awaitable<std::vector<result<movement_outcome>>> submit(call& c, std::vector<movement> items,
                                                                       bool atomic);

  // Shutdown, after the grace period: cancels the batch in flight (its
  // connection is discarded; its requests learn outcome_unknown) and fails
  // what is still queued or submitted later with service_unavailable.
  void stop();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace bankd::bank
