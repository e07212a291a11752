#include "db/transaction.hpp"

namespace bankd::db {
namespace net = boost::asio;

net::awaitable<result<batch_result>> transaction::step(const batch& b, bool commit) {
  if (finished_) co_return error::client(errc::protocol_error, "transaction already ended");
  tx_frame frame;
  if (!begun_) frame.begin = level_;
  frame.commit = commit;
  begun_ = true;
  auto outcome = co_await conn_.execute(b, frame, clock::now() + step_timeout_);
  if (!outcome) {
    // The connection rolled back (or was discarded): nothing of this attempt remains.
    finished_ = true;
    co_return outcome;
  }
  if (commit) {
    finished_ = true;
    committed_ = outcome->committed;
  }
  co_return outcome;
}

net::awaitable<result<batch_result>> transaction::execute(const batch& b) {
  return step(b, false);
}

net::awaitable<result<batch_result>> transaction::execute_and_commit(const batch& b) {
  return step(b, true);
}

net::awaitable<result<void>> transaction::commit() {
  static const batch empty;
  if (!begun_) {
    finished_ = true;  // nothing was sent: nothing to commit
    co_return result<void>{};
  }
  auto outcome = co_await step(empty, true);
  if (!outcome) co_return outcome.error();
  co_return result<void>{};
}

net::awaitable<result<void>> transaction::rollback() {
  if (finished_) co_return result<void>{};
  finished_ = true;
  if (!begun_) co_return result<void>{};
  co_return co_await conn_.rollback(clock::now() + step_timeout_);
}

}  // namespace bankd::db
