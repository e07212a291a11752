#include "webhooks/lane.hpp"

#include "util/log.hpp"
#include "util/log_throttle.hpp"
#include "webhooks/signature.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace bankd::webhooks {
namespace net = boost::asio;

namespace {

std::chrono::milliseconds backoff_after(std::int64_t failures, const delivery_params& p) {
  auto delay = p.backoff;
  for (std::int64_t i = 1; i < failures && delay < p.max_backoff; ++i) delay *= 2;
  return std::min(delay, p.max_backoff);
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

lane::lane(std::int64_t endpoint, net::any_io_executor ex, delivery_state& state, const delivery_params& params,
           delivery_observer* observer)
    : endpoint_(endpoint), state_(state), params_(params), observer_(observer), sender_(ex), timer_(ex) {}

void lane::stop() {
  stopped_ = true;
  timer_.cancel();
  sender_.close();
}

net::awaitable<void> lane::pause(std::chrono::milliseconds how_long) {
  timer_.expires_after(how_long);
  co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<lane::sent> lane::record_failure(const endpoint_row& e, const pending_event& event,
                                                const std::string& failure) {
  const auto failures = e.consecutive_failures + 1;
  const auto retry_in = backoff_after(failures, params_);
  if (auto held_back = util::log_throttle::shared().admit("webhooks.delivery_failed"))
    log::warn("webhooks.delivery_failed")
        .kv("endpoint", e.id)
        .kv("event", event.id)
        .kv("failure", failure)
        .kv("consecutive_failures", failures)
        .kv("retry_in_ms", retry_in.count())
        .kv("suppressed", *held_back);
  auto disabled = co_await state_.record_failure(e.id, failure, retry_in, params_.give_up_after);
  if (disabled && *disabled) {
    log::warn("webhooks.endpoint_disabled").kv("endpoint", e.id).kv("failures", failures).kv("last_error", failure);
    if (observer_) observer_->on_disabled();
    stopped_ = true;
  }
  co_return sent::failed;
}

net::awaitable<lane::sent> lane::deliver(const endpoint_row& e, const pending_event& event) {
  const auto parsed = util::parse_http_url(e.url);
  if (!parsed.address) co_return co_await record_failure(e, event, parsed.refusal);
  if (!params_.allowed.allows(*parsed.address)) co_return co_await record_failure(e, event, "url not allowed");
  const auto message_id = std::to_string(event.id);
  const auto timestamp = unix_seconds();
  std::vector<std::string> secrets{e.secret};
  if (e.previous_secret) secrets.push_back(*e.previous_secret);
  const delivery_request req{{{"user-agent", params_.user_agent},
                              {"webhook-id", message_id},
                              {"webhook-timestamp", std::to_string(timestamp)},
                              {"webhook-signature", signature_header(secrets, message_id, timestamp, event.body)}},
                             event.body};
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = co_await sender_.post(*parsed.address, req, params_.timeout);
  if (stopped_) co_return sent::interrupted;
  if (observer_)
    observer_->on_delivery(outcome.acknowledged,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!outcome.acknowledged) co_return co_await record_failure(e, event, outcome.failure);
  auto moved = co_await state_.advance(e.id, event.id);
  co_return moved ? sent::acknowledged : sent::interrupted;
}

net::awaitable<void> lane::run() {
  while (!stopped_) {
    auto found = co_await state_.enabled_endpoint(endpoint_);
    if (!found) {
      co_await pause(params_.standby);  // the pool reports database trouble
      continue;
    }
    if (!*found) break;  // deleted or disabled
    const endpoint_row& e = **found;
    if (e.retry_in_ms > 0) {
      co_await pause(std::chrono::milliseconds(e.retry_in_ms));
      continue;
    }
    auto batch = co_await state_.next_events(e, params_.page);
    if (!batch) {
      co_await pause(params_.standby);
      continue;
    }
    auto reached = e.delivered_through;
    bool interrupted = false;
    for (const auto& event : batch->events) {
      auto result = sent::interrupted;
      if (!stopped_) result = co_await deliver(e, event);
      if (result != sent::acknowledged) {
        interrupted = true;
        break;
      }
      reached = event.id;
    }
    if (interrupted) continue;  // reloaded: a failure's delay is in next_attempt_at
    if (batch->scanned_to > reached) (void)co_await state_.advance(e.id, batch->scanned_to);
    if (batch->scanned_to <= e.delivered_through) co_await pause(params_.poll);  // caught up
  }
}

}  // namespace bankd::webhooks
