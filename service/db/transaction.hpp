#pragma once
// Transactions with retries.
//
// run_serializable(pool, body) borrows a connection, runs `body` inside a
// SERIALIZABLE transaction and commits. When the database reports a
// serialization failure (40001) or a deadlock (40P01), anywhere in the body or
// at COMMIT, the whole body runs again on a fresh attempt after a randomised
// backoff, up to policy.max_attempts. Every other error ends the run at once.
//
// The body receives a `transaction` and returns awaitable<result<T>>. A body
// that sends everything in one execute_and_commit() costs a single round trip:
// BEGIN, its statements and COMMIT travel in one pipeline. A body may instead
// call rollback() to end without committing (a refusal decided in code).

#include "db/pool.hpp"
#include "util/backoff.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <type_traits>

namespace bankd::db {

struct retry_policy {
  int max_attempts = 10;
  std::chrono::microseconds backoff_base{500};
  std::chrono::microseconds backoff_cap{20000};
};

// One attempt of a transaction on a borrowed connection.
class transaction {
public:
  transaction(connection& conn, isolation level, clock::duration step_timeout) noexcept
      : conn_(conn), level_(level), step_timeout_(step_timeout) {}

  // Sends a batch inside the transaction; the first call also opens it.
  boost::asio::awaitable<result<batch_result>> execute(const batch& b);
  // Sends a batch followed by COMMIT. committed() tells whether it committed.
  boost::asio::awaitable<result<batch_result>> execute_and_commit(const batch& b);
  boost::asio::awaitable<result<void>> commit();
  boost::asio::awaitable<result<void>> rollback();

  bool committed() const noexcept { return committed_; }
  bool finished() const noexcept { return finished_; }
  connection& conn() noexcept { return conn_; }

private:
  boost::asio::awaitable<result<batch_result>> step(const batch& b, bool commit);

  connection& conn_;
  isolation level_;
  clock::duration step_timeout_;
  bool begun_ = false;
  bool finished_ = false;
  bool committed_ = false;
};

template <class T>
struct tx_outcome {
  result<T> value;
  int attempts;  // 1 when the first attempt decided the outcome
};

template <class Body>
auto run_in_transaction(connection_pool& pool, isolation level, retry_policy policy, Body body)
    -> boost::asio::awaitable<
        tx_outcome<typename std::invoke_result_t<Body&, transaction&>::value_type::value_type>> {
  namespace net = boost::asio;
  using body_result = typename std::invoke_result_t<Body&, transaction&>::value_type;
  using run_outcome = tx_outcome<typename body_result::value_type>;
  for (int attempt = 1;; ++attempt) {
    {
      auto leased = co_await pool.acquire();
      if (!leased) co_return run_outcome{body_result(leased.error()), attempt};
      transaction tx(**leased, level, pool.params().query_timeout);
      body_result outcome = co_await body(tx);
      if (outcome && !tx.finished()) {
        if (auto committed = co_await tx.commit(); !committed) outcome = committed.error();
      } else if (!outcome && !tx.finished()) {
        co_await tx.rollback();  // on failure the connection is discarded, which also ends it
      }
      const bool again = !outcome && is_retryable(outcome.error().code) &&
                         attempt < policy.max_attempts;
      if (!again) co_return run_outcome{std::move(outcome), attempt};
    }  // the lease goes back before the backoff, so others can use the connection
    net::steady_timer pause(co_await net::this_coro::executor,
                            util::full_jitter(attempt, policy.backoff_base, policy.backoff_cap));
    co_await pause.async_wait(net::as_tuple(net::use_awaitable));
  }
}

template <class Body>
auto run_serializable(connection_pool& pool, retry_policy policy, Body body) {
  return run_in_transaction(pool, isolation::serializable, policy, std::move(body));
}

}  // namespace bankd::db
