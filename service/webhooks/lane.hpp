#pragma once
// One endpoint's delivery: its events in id order, each sent until the
// receiver acknowledges it, the cursor moved after each. A failure pauses
// the lane for the endpoint's backoff (kept in the database, so a new leader
// honours it); failing for long enough disables the endpoint and ends the
// lane. Each endpoint has a lane of its own, so a slow receiver delays only
// itself.
//
// Runs on the delivering process's io_context thread; stop() from there.

#include "util/host_allowlist.hpp"
#include "webhooks/delivery_state.hpp"
#include "webhooks/sender.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace bankd::webhooks {

struct delivery_params {
  util::host_allowlist allowed;                       // checked again before every delivery
  std::chrono::milliseconds timeout{10'000};           // one delivery, all of it
  std::chrono::milliseconds backoff{1'000};            // before the first retry; doubles
  std::chrono::milliseconds max_backoff{3'600'000};
  std::chrono::milliseconds give_up_after{86'400'000};  // failing this long disables the endpoint
  std::chrono::milliseconds poll{200};                 // a caught-up lane looks for new events
  std::chrono::milliseconds refresh{1'000};            // the leader re-reads endpoints, confirms its lock
  std::chrono::milliseconds standby{1'000};            // between attempts to lead, after a database failure
  std::chrono::milliseconds db_timeout{5'000};
  std::int64_t page = 100;  // events looked at per query
  // The advisory lock of the delivering process: "bankd.wh" as a big-endian integer.
  std::int64_t lock_key = 7089068695979194216;
  std::string user_agent = "bankd-webhooks";
};

// Told what delivery does, for metrics; called on the delivering thread.
class delivery_observer {
 public:
  virtual void on_delivery(bool acknowledged, double seconds) = 0;
  virtual void on_disabled() = 0;
  virtual void on_leading(bool leading) = 0;
  virtual void on_endpoints(std::size_t enabled, std::size_t disabled) = 0;
  virtual void on_lag(double seconds) = 0;

 protected:
  ~delivery_observer() = default;
};

class lane {
 public:
  lane(std::int64_t endpoint, boost::asio::any_io_executor ex, delivery_state& state, const delivery_params& params,
       delivery_observer* observer);

  // Until stop(), or until the endpoint is deleted or disabled.
  boost::asio::awaitable<void> run();
  // Ends run() at its next step; a delivery in flight is abandoned (and sent
  // again by whoever delivers next).
  void stop();

 private:
  enum class sent { acknowledged, failed, interrupted };

  boost::asio::awaitable<sent> deliver(const endpoint_row& e, const pending_event& event);
  boost::asio::awaitable<sent> record_failure(const endpoint_row& e, const pending_event& event,
                                              const std::string& failure);
  boost::asio::awaitable<void> pause(std::chrono::milliseconds how_long);

  std::int64_t endpoint_;
  delivery_state& state_;
  const delivery_params& params_;
  delivery_observer* observer_;
  http_sender sender_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace bankd::webhooks
