#pragma once
// The domain's way to the database, written once: acquire a pooled
// connection within the call's deadline, run a pipeline or a transaction with
// the configured retry policy, count the attempts on the call, and turn
// database failures into bank errors.
//
// One per io_context thread, like the pool it uses.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "db/pool.hpp"
#include "db/transaction.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace bankd::bank {

class store {
public:
  store(db::connection_pool& pool, db::retry_policy retries, db::transaction_observer* observer)
      : pool_(pool), retries_(retries), observer_(observer) {}

  // One pipeline; a failure is mapped with from_db(operation, kind).
  boost::asio::awaitable<result<db::batch_result>> query(call& c, const db::batch& b,
                                                         std::string_view operation,
                                                         effect kind = effect::read,
                                                         db::tx_frame frame = {});
  // The same, keeping the database error for the callers that expect one
  // (a unique violation meaning "email taken").
  boost::asio::awaitable<db::result<db::batch_result>> query_raw(call& c, const db::batch& b,
                                                                 db::tx_frame frame = {});

  // A SERIALIZABLE transaction with retries; the attempts are added to `c`.
  // The database error is kept: callers map what they expect and hand the
  // rest to from_db(operation, effect::write).
  template <class Body>
  auto transact(call& c, std::string_view operation, Body body)
      -> boost::asio::awaitable<typename db::detail::body_result_t<db::connection_pool, Body>> {
    db::run_options options{operation, db::isolation::serializable, retries_, c.deadline, observer_};
    auto run = co_await db::run_in_transaction(pool_, options, std::move(body));
    c.attempts += run.attempts;
    co_return std::move(run.value);
  }

  // The same for work of no single call (a batch of many requests), within
  // `deadline`, holding the advisory lock `lock` around each attempt.
  template <class Body>
  auto transact_until(db::clock::time_point deadline, std::string_view operation, std::int64_t lock,
                      bool durable_after_unlock, Body body)
      -> boost::asio::awaitable<
          db::tx_outcome<typename db::detail::body_result_t<db::connection_pool, Body>::value_type>> {
    db::run_options options{operation, db::isolation::serializable, retries_, deadline, observer_, lock,
                            durable_after_unlock};
    co_return co_await db::run_in_transaction(pool_, options, std::move(body));
  }

  db::connection_pool& pool() noexcept { return pool_; }

private:
  db::connection_pool& pool_;
  db::retry_policy retries_;
  db::transaction_observer* observer_;
};

}  // namespace bankd::bank
