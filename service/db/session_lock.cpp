#include "db/session_lock.hpp"

#include "db/rows.hpp"

#include <boost/describe/class.hpp>

namespace bankd::db {
namespace net = boost::asio;

namespace {

constexpr statement try_lock{"session_lock.try", R"sql(
SELECT pg_try_advisory_lock($1::bigint) AS locked
)sql"};

constexpr statement lock_held{"session_lock.held", R"sql(
SELECT EXISTS (SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                  AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid
                  AND objsubid = 1) AS locked
)sql"};

struct lock_row {
  bool locked = false;
};
BOOST_DESCRIBE_STRUCT(lock_row, (), (locked))

}  // namespace

session_lock::session_lock(connect_params connect, net::any_io_executor offload, std::int64_t key,
                           std::chrono::milliseconds timeout)
    : connect_(std::move(connect)), offload_(std::move(offload)), key_(key), timeout_(timeout) {}

session_lock::~session_lock() = default;

void session_lock::release() {
  conn_.reset();
  held_ = false;
}

net::awaitable<bool> session_lock::try_acquire() {
  if (held_) co_return true;
  if (!conn_) {
    auto opened = co_await connection::connect(connect_, offload_, clock::now() + timeout_);
    if (!opened) co_return false;  // the pools report an unreachable database
    conn_ = std::move(*opened);
  }
  batch b;
  b.add(try_lock, params{}.add(key_));
  auto done = co_await conn_->execute(b, {}, clock::now() + timeout_);
  if (!done) {
    release();
    co_return false;
  }
  held_ = read_row<lock_row>(done->results[0]).locked;
  co_return held_;
}

net::awaitable<bool> session_lock::confirm() {
  if (!held_) co_return false;
  batch b;
  b.add(lock_held, params{}.add(key_));
  auto done = co_await conn_->execute(b, {}, clock::now() + timeout_);
  if (!done || !conn_->is_usable() || !read_row<lock_row>(done->results[0]).locked) release();
  co_return held_;
}

}  // namespace bankd::db
