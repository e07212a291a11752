#include "bank/store.hpp"

namespace bankd::bank {
namespace net = boost::asio;

net::awaitable<result<db::batch_result>> store::query(call& c, const db::batch& b,
                                                      std::string_view operation, effect kind,
                                                      db::tx_frame frame) {
  auto done = co_await db::query(pool_, b, frame, c.deadline);
  if (!done) co_return from_db(done.error(), operation, kind);
  co_return std::move(*done);
}

net::awaitable<db::result<db::batch_result>> store::query_raw(call& c, const db::batch& b,
                                                              db::tx_frame frame) {
  return db::query(pool_, b, frame, c.deadline);
}

}  // namespace bankd::bank
