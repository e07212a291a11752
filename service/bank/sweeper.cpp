#include "bank/sweeper.hpp"

#include "db/rows.hpp"
#include "util/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// Each sweep reads with a fresh snapshot (no transaction), after the
// previous sweep's expiries committed.
constexpr db::statement due_holds{"sweeper.due", R"sql(
SELECT transfer_id FROM holds WHERE expires_at <= now() ORDER BY expires_at, transfer_id LIMIT $1
)sql"};

struct due_row {
  std::int64_t transfer_id = 0;
};
BOOST_DESCRIBE_STRUCT(due_row, (), (transfer_id))

}  // namespace

expiry_sweeper::expiry_sweeper(db::connect_params connect, net::any_io_executor offload, transfer_service& transfers,
                               sweeper_params params, sweeper_observer* observer)
    : transfers_(transfers),
      params_(params),
      observer_(observer),
      lock_(named(std::move(connect), "bankd sweeper"), std::move(offload), params.lock_key, params.timeout) {}

expiry_sweeper::~expiry_sweeper() = default;

void expiry_sweeper::stop() {
  stopped_ = true;
  if (timer_) timer_->cancel();
}

void expiry_sweeper::drop_connection() {
  lock_.release();
  if (leading_) {
    leading_ = false;
    log::warn("bank.sweeper.stopped_leading");
    if (observer_) observer_->on_leading(false);
  }
}

net::awaitable<bool> expiry_sweeper::lead() {
  leading_ = co_await lock_.try_acquire();
  if (leading_) {
    log::info("bank.sweeper.leading").kv("backend_pid", lock_.conn()->backend_pid());
    if (observer_) observer_->on_leading(true);
  }
  co_return leading_;
}

// The number of holds found due; they are expired before it returns.
net::awaitable<std::size_t> expiry_sweeper::sweep() {
  db::batch b;
  b.add(due_holds, db::params{}.add(static_cast<std::int64_t>(params_.max_per_sweep)));
  auto* conn = lock_.conn();
  auto done = co_await conn->execute(b, {}, db::clock::now() + params_.timeout);
  if (!done || !conn->is_usable()) {
    drop_connection();  // and with it the lock
    co_return 0;
  }
  std::vector<std::int64_t> ids;
  for (const auto& r : db::read_rows<due_row>(done->results[0])) ids.push_back(r.transfer_id);
  if (ids.empty()) co_return 0;
  call c{identity{operator_user_id, true}, db::clock::now() + params_.timeout, 0};
  const auto outcomes = co_await transfers_.expire(c, ids);
  std::size_t expired = 0, failed = 0;
  for (const auto& o : outcomes) {
    if (o && !o->replayed) ++expired;
    if (!o && o.error().code != errc::transfer_not_pending) ++failed;
  }
  if (observer_ && expired > 0) observer_->on_expired(expired);
  if (failed > 0) log::warn("bank.sweeper.expiry_failed").kv("holds", failed).kv("of", ids.size());
  co_return ids.size();
}

net::awaitable<void> expiry_sweeper::run() {
  timer_ = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
  while (!stopped_) {
    auto pause = params_.standby;
    if (leading_ || co_await lead()) {
      const auto found = co_await sweep();
      if (leading_) pause = found >= params_.max_per_sweep ? std::chrono::milliseconds(0) : params_.interval;
    }
    if (stopped_) break;
    timer_->expires_after(pause);
    co_await timer_->async_wait(net::as_tuple(net::use_awaitable));
  }
  drop_connection();
}

}  // namespace bankd::bank
