#pragma once
// Prometheus metrics of the process (prometheus-cpp core for the types and the
// text exposition format). Thread-safe: every io_context thread records into
// the same families; pool gauges are read from each pool's atomic counters at
// scrape time.

#include "db/pool.hpp"
#include "db/transaction.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::metrics {

class registry final : public db::transaction_observer {
public:
  registry();

  void observe_request(std::string_view method, std::string_view route, unsigned status,
                       double seconds);
  // One finished transaction run: its attempts, and how many of them ended in
  // a serialization failure or deadlock. Called from any thread.
  void on_transaction(const db::transaction_report& report) override;
  // The transfer engine: one batch sent (its movements, its round trips'
  // time, its attempts), one movement answered, the queue growing or shrinking.
  void observe_batch(std::size_t movements, double seconds, int attempts);
  void observe_movement(std::string_view outcome);
  void add_queued(std::int64_t delta);
  // The expiry sweeper: holds it expired, and whether this process leads.
  void observe_expired(std::size_t holds);
  void set_sweeper_leading(bool leading);
  // Webhook delivery: one attempt (acknowledged or not, and its time), an
  // endpoint disabled, whether this process delivers, the endpoints it
  // sees, and the age of the oldest event an enabled endpoint has not had.
  void observe_webhook_delivery(bool acknowledged, double seconds);
  void observe_webhook_disabled();
  void set_webhook_leading(bool leading);
  void set_webhook_endpoints(std::size_t enabled, std::size_t disabled);
  void set_events_lag(double seconds);
  // Pools to report; they must outlive this object or be removed before.
  void add_pool(const db::pool_stats* stats) { pools_.push_back(stats); }

  std::string render() const;

private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& transactions_;
  prometheus::Family<prometheus::Histogram>& attempts_;
  prometheus::Family<prometheus::Counter>& conflicts_;
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& batch_seconds_;
  prometheus::Histogram& batch_attempts_;
  prometheus::Family<prometheus::Counter>& movements_;
  prometheus::Gauge& queued_;
  prometheus::Counter& expired_;
  prometheus::Gauge& sweeper_leading_;
  prometheus::Family<prometheus::Counter>& webhook_deliveries_;
  prometheus::Histogram& webhook_seconds_;
  prometheus::Counter& webhooks_disabled_;
  prometheus::Family<prometheus::Gauge>& webhook_endpoints_;
  prometheus::Gauge& webhook_leading_;
  prometheus::Gauge& events_lag_;
  std::vector<const db::pool_stats*> pools_;
};

}  // namespace bankd::metrics
