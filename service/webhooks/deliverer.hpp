#pragma once
// Webhook delivery for the whole deployment: exactly one bankd delivers at a
// time, the one holding a session advisory lock (db::session_lock, like the
// expiry sweeper). The leader re-reads the endpoints every `refresh`, runs a
// lane per enabled endpoint, reports the feed's delivery lag, and confirms
// it still holds the lock; when it no longer does (its connection died), it
// stops its lanes and another process takes over, resending at most the
// deliveries that were in flight. Receivers deduplicate by webhook-id.
//
// Delivery runs beside request handling on one io_context thread, with
// its own lock connection and the worker's pool for its queries: it never
// blocks a request. One per process; run() and stop() on that thread.

#include "db/pool.hpp"
#include "db/session_lock.hpp"
#include "webhooks/delivery_state.hpp"
#include "webhooks/lane.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>

namespace bankd::webhooks {

class deliverer {
 public:
  // `pool` serves the lanes' queries; `connect` and `offload` the lock's own
  // connection.
  deliverer(boost::asio::any_io_executor ex, db::connection_pool& pool, db::connect_params connect,
            boost::asio::any_io_executor offload, delivery_params params, delivery_observer* observer);
  deliverer(const deliverer&) = delete;
  deliverer& operator=(const deliverer&) = delete;
  ~deliverer();

  // Until stop(): lead when it can, deliver while it leads.
  boost::asio::awaitable<void> run();
  void stop();

 private:
  boost::asio::awaitable<void> refresh();
  void start_lane(std::int64_t endpoint);
  void stop_lanes();
  void set_leading(bool leading);

  boost::asio::any_io_executor ex_;
  delivery_params params_;
  delivery_observer* observer_;
  delivery_state state_;
  db::session_lock lock_;
  boost::asio::steady_timer timer_;
  std::map<std::int64_t, std::shared_ptr<lane>> lanes_;
  bool leading_ = false;
  bool stopped_ = false;
};

}  // namespace bankd::webhooks
