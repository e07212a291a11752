#pragma once
// Leadership among every process on a database: a session-level advisory
// lock held on a connection of its own. Whoever holds it leads; when its
// connection ends (the process stopped or killed, the server restarted) the
// lock goes with it and another process's next try_acquire() gets it.
//
// One per task, on one io_context thread; not thread-safe.

#include "db/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace bankd::db {

class session_lock {
 public:
  // `offload` runs the blocking part of connecting (as the pools do); each
  // connect and query has `timeout`.
  session_lock(connect_params connect, boost::asio::any_io_executor offload, std::int64_t key,
               std::chrono::milliseconds timeout);
  session_lock(const session_lock&) = delete;
  session_lock& operator=(const session_lock&) = delete;
  ~session_lock();

  // Connects if needed and tries for the lock once; whether it is held.
  boost::asio::awaitable<bool> try_acquire();
  // Whether the lock is still held, asking the server (a lost connection is
  // only noticed when used); false drops it.
  boost::asio::awaitable<bool> confirm();
  bool held() const noexcept { return held_; }
  // The connection holding the lock, for the leader's own queries; null
  // when not held. A failed query there should be followed by release().
  connection* conn() const noexcept { return held_ ? conn_.get() : nullptr; }
  // Closes the connection, and with it the lock.
  void release();

 private:
  connect_params connect_;
  boost::asio::any_io_executor offload_;
  std::int64_t key_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<connection> conn_;
  bool held_ = false;
};

}  // namespace bankd::db
