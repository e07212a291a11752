#pragma once
// Running work on pooled connections: one pipeline (query), or a transaction
// with retries (run_in_transaction), the one place where attempts are
// counted, the retry policy applies and finished transactions are reported.
//
// run_in_transaction(pool, options, body) borrows a connection, runs `body`
// inside a transaction of options.level and commits. When the database
// reports a serialization failure (40001) or a deadlock (40P01), anywhere in
// the body or at COMMIT, the whole body runs again on a fresh attempt after a
// randomised backoff, up to policy.max_attempts and never past
// options.deadline. Every other error ends the run at once.
//
// The body receives a transaction and returns awaitable<result<T>>. A body
// that sends everything in one execute_and_commit() costs a single round trip:
// BEGIN, its statements and COMMIT travel in one pipeline. A body may instead
// call rollback() to end without committing (a refusal decided in code).
//
// Both are templates over the pool, so that unit tests run them against fake
// connections. The pool needs acquire(deadline) -> awaitable<result<Lease>>
// and params().query_timeout; a lease dereferences to a connection with
// execute(batch, tx_frame, deadline) and rollback(deadline).

#include "db/pool.hpp"
#include "util/backoff.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace bankd::db {

struct retry_policy {
  int max_attempts = 10;
  std::chrono::microseconds backoff_base{500};
  std::chrono::microseconds backoff_cap{20000};
};

enum class run_end { committed, failed, retries_exhausted };

// One finished run_in_transaction, for metrics.
struct transaction_report {
  std::string_view operation;
  run_end end;
  int attempts;   // 1 when the first attempt decided the outcome
  int conflicts;  // attempts that ended in 40001 or 40P01
};

// Told of every finished run; implemented by the metrics registry.
class transaction_observer {
public:
  virtual void on_transaction(const transaction_report& report) = 0;

protected:
  ~transaction_observer() = default;
};

struct run_options {
  std::string_view operation;                 // names the run in metrics and logs
  isolation level = isolation::serializable;
  retry_policy policy;
  clock::time_point deadline = clock::time_point::max();  // acquire, every step, backoffs
  transaction_observer* observer = nullptr;
  // Held around each attempt (see tx_frame::advisory_lock); only for bodies
  // that send everything in one execute_and_commit().
  std::optional<std::int64_t> advisory_lock;
  bool durable_after_unlock = false;  // see tx_frame::durable_after_unlock
};

// One attempt of a transaction on a borrowed connection.
template <class Connection>
class basic_transaction {
public:
  basic_transaction(Connection& conn, isolation level, clock::duration step_timeout,
                    clock::time_point deadline, std::optional<std::int64_t> advisory_lock = {},
                    bool durable_after_unlock = false) noexcept
      : conn_(conn), level_(level), step_timeout_(step_timeout), deadline_(deadline),
        advisory_lock_(advisory_lock), durable_after_unlock_(durable_after_unlock) {}

  // Sends a batch inside the transaction; the first call also opens it.
  boost::asio::awaitable<result<batch_result>> execute(const batch& b) { return step(b, false); }
  // Sends a batch followed by COMMIT.
  boost::asio::awaitable<result<batch_result>> execute_and_commit(const batch& b) {
    return step(b, true);
  }
  boost::asio::awaitable<result<void>> commit();
  boost::asio::awaitable<result<void>> rollback();

  bool finished() const noexcept { return finished_; }

private:
  clock::time_point step_deadline() const { return std::min(clock::now() + step_timeout_, deadline_); }
  boost::asio::awaitable<result<batch_result>> step(const batch& b, bool commit);

  Connection& conn_;
  isolation level_;
  clock::duration step_timeout_;
  clock::time_point deadline_;
  std::optional<std::int64_t> advisory_lock_;
  bool durable_after_unlock_;
  bool begun_ = false;
  bool finished_ = false;
};

using transaction = basic_transaction<connection>;

template <class Connection>
boost::asio::awaitable<result<batch_result>> basic_transaction<Connection>::step(const batch& b,
                                                                                bool commit) {
  if (finished_) co_return error::client(errc::protocol_error, "transaction already ended");
  tx_frame frame;
  if (!begun_) frame.begin = level_;
  frame.commit = commit;
  if (advisory_lock_ && !(frame.begin && commit))
    throw std::logic_error("an advisory-locked transaction must be sent in one execute_and_commit()");
  frame.advisory_lock = advisory_lock_;
  frame.durable_after_unlock = durable_after_unlock_;
  begun_ = true;
  auto outcome = co_await conn_.execute(b, frame, step_deadline());
  // On an error the connection rolled back (or is discarded): nothing of this attempt remains.
  if (!outcome || commit) finished_ = true;
  co_return outcome;
}

template <class Connection>
boost::asio::awaitable<result<void>> basic_transaction<Connection>::commit() {
  static const batch empty;
  if (!begun_) {
    finished_ = true;  // nothing was sent: nothing to commit
    co_return result<void>{};
  }
  auto outcome = co_await step(empty, true);
  if (!outcome) co_return outcome.error();
  co_return result<void>{};
}

template <class Connection>
boost::asio::awaitable<result<void>> basic_transaction<Connection>::rollback() {
  if (finished_) co_return result<void>{};
  finished_ = true;
  if (!begun_) co_return result<void>{};
  co_return co_await conn_.rollback(step_deadline());
}

template <class T>
struct tx_outcome {
  result<T> value;
  int attempts;  // 1 when the first attempt decided the outcome
};

namespace detail {
template <class Pool>
using lease_t = typename decltype(std::declval<Pool&>().acquire(clock::now()))::value_type::value_type;
template <class Pool>
using connection_t = std::remove_reference_t<decltype(*std::declval<lease_t<Pool>&>())>;
template <class Pool, class Body>
using body_result_t =
    typename std::invoke_result_t<Body&, basic_transaction<connection_t<Pool>>&>::value_type;
}  // namespace detail

template <class Pool, class Body>
auto run_in_transaction(Pool& pool, run_options options, Body body)
    -> boost::asio::awaitable<tx_outcome<typename detail::body_result_t<Pool, Body>::value_type>> {
  namespace net = boost::asio;
  using body_result = detail::body_result_t<Pool, Body>;
  int conflicts = 0;
  for (int attempt = 1;; ++attempt) {
    body_result outcome = error::client(errc::timeout, "request deadline passed");
    {
      auto leased = co_await pool.acquire(
          std::min(options.deadline, clock::now() + pool.params().acquire_timeout));
      if (!leased) {
        outcome = leased.error();
      } else {
        basic_transaction<detail::connection_t<Pool>> tx(**leased, options.level, pool.params().query_timeout,
                                                         options.deadline, options.advisory_lock,
                                                         options.durable_after_unlock);
        outcome = co_await body(tx);
        if (outcome && !tx.finished()) {
          if (auto committed = co_await tx.commit(); !committed) outcome = committed.error();
        } else if (!outcome && !tx.finished()) {
          co_await tx.rollback();  // on failure the connection is discarded, which also ends it
        }
      }
    }  // the lease goes back before the backoff, so others can use the connection
    const bool conflict = !outcome && is_retryable(outcome.error().code);
    conflicts += conflict ? 1 : 0;
    const auto pause = util::full_jitter(attempt, options.policy.backoff_base, options.policy.backoff_cap);
    if (!conflict || attempt >= options.policy.max_attempts || clock::now() + pause >= options.deadline) {
      const run_end end = outcome ? run_end::committed : conflict ? run_end::retries_exhausted : run_end::failed;
      if (options.observer != nullptr)
        options.observer->on_transaction({options.operation, end, attempt, conflicts});
      co_return tx_outcome<typename body_result::value_type>{std::move(outcome), attempt};
    }
    net::steady_timer timer(co_await net::this_coro::executor, pause);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
}

// One pipeline on a pooled connection, acquired and run within `deadline`.
template <class Pool>
boost::asio::awaitable<result<batch_result>> query(Pool& pool, const batch& b, tx_frame frame,
                                                   clock::time_point deadline) {
  auto leased = co_await pool.acquire(std::min(deadline, clock::now() + pool.params().acquire_timeout));
  if (!leased) co_return leased.error();
  co_return co_await (*leased)->execute(b, frame,
                                        std::min(deadline, clock::now() + pool.params().query_timeout));
}

}  // namespace bankd::db
