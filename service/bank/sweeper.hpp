#pragma once
// The expiry sweeper: voids holds whose deadline has passed, as `expire`
// events through the transfer engine, within about `interval` of the
// deadline.
//
// Exactly one bankd sweeps at a time, across every instance on a database:
// the sweeper that holds a session advisory lock (lock_key) on a connection
// of its own. The others try for it every `standby`; when the leader's
// connection ends (bankd stopped or killed, the database restarted), its
// lock goes with it and another takes over. A post or void that arrives
// after a deadline is refused whether or not the sweeper has run yet (the
// engine's function compares with now()), so the sweeper's delay only
// decides when the hold's money is available again and the status reads
// "expired". Should two sweeps ever overlap (a leader that lost its
// connection while its batch was in flight), the second expiry of a hold
// is a replay of the first: each expiry has its own idempotency key.
//
// One per process, on one io_context thread; run() and stop() are called
// from that thread.

#include "bank/transfers.hpp"
#include "db/session_lock.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace bankd::bank {

struct sweeper_params {
  std::chrono::milliseconds interval{250};  // between sweeps while leading
  std::chrono::milliseconds standby{1000};  // between attempts to lead, and after a failure
  std::chrono::milliseconds timeout{5000};  // for connecting, each query and each expiry batch
  std::size_t max_per_sweep = 500;          // a full sweep is followed by another at once
  // The advisory lock of the leader: "bankd.sw" read as a big-endian integer.
  std::int64_t lock_key = 7089068695979193207;
};

// Told what the sweeper does, for metrics; called on the sweeper's thread.
class sweeper_observer {
public:
  virtual void on_expired(std::size_t holds) = 0;
  virtual void on_leading(bool leading) = 0;

protected:
  ~sweeper_observer() = default;
};

class expiry_sweeper {
public:
  // `offload` runs the blocking part of connecting (as the pools do).
  expiry_sweeper(db::connect_params connect, boost::asio::any_io_executor offload, transfer_service& transfers,
                 sweeper_params params, sweeper_observer* observer);
  expiry_sweeper(const expiry_sweeper&) = delete;
  expiry_sweeper& operator=(const expiry_sweeper&) = delete;
  ~expiry_sweeper();

  // Until stop(): lead when it can, sweep while it leads.
  boost::asio::awaitable<void> run();
  // Ends run() at its next wait; the connection, and with it the lock, goes.
  void stop();

private:
  boost::asio::awaitable<bool> lead();
  boost::asio::awaitable<std::size_t> sweep();
  void drop_connection();

  transfer_service& transfers_;
  sweeper_params params_;
  sweeper_observer* observer_;
  db::session_lock lock_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  bool leading_ = false;
  bool stopped_ = false;
};

}  // namespace bankd::bank
