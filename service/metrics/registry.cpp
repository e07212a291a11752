#include "metrics/registry.hpp"

#include "util/log.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>
#include <unordered_map>

namespace bankd::metrics {
namespace prom = prometheus;

namespace {

const prom::Histogram::BucketBoundaries latency_buckets{
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
const prom::Histogram::BucketBoundaries attempt_buckets{1, 2, 3, 5, 10, 20};
const prom::Histogram::BucketBoundaries batch_buckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

prom::MetricFamily family(std::string name, std::string help, prom::MetricType type) {
  prom::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_value(prom::MetricFamily& f, double value, std::vector<prom::ClientMetric::Label> labels = {}) {
  prom::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prom::MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

template <class T>
double total(const std::vector<const db::pool_stats*>& pools, T db::pool_stats::*field) {
  double sum = 0;
  for (const auto* p : pools) sum += static_cast<double>((p->*field).load(std::memory_order_relaxed));
  return sum;
}

std::vector<prom::MetricFamily> pool_families(const std::vector<const db::pool_stats*>& pools) {
  using S = db::pool_stats;
  std::vector<prom::MetricFamily> out;
  auto conns = family("bankd_db_pool_connections", "Pooled PostgreSQL connections by state",
                      prom::MetricType::Gauge);
  add_value(conns, total(pools, &S::idle), {{"state", "idle"}});
  add_value(conns, total(pools, &S::in_use), {{"state", "in_use"}});
  add_value(conns, total(pools, &S::connecting), {{"state", "connecting"}});
  out.push_back(std::move(conns));
  auto gauge = [&](const char* name, const char* help, auto field) {
    auto f = family(name, help, prom::MetricType::Gauge);
    add_value(f, total(pools, field));
    out.push_back(std::move(f));
  };
  auto counter = [&](const char* name, const char* help, auto field, double scale = 1.0) {
    auto f = family(name, help, prom::MetricType::Counter);
    add_value(f, total(pools, field) * scale);
    out.push_back(std::move(f));
  };
  gauge("bankd_db_pool_size", "Open pooled connections (idle + in use)", &S::open);
  gauge("bankd_db_pool_waiting", "Coroutines waiting for a connection", &S::waiting);
  counter("bankd_db_pool_connections_created_total", "Connections opened", &S::created);
  counter("bankd_db_pool_connect_failures_total", "Failed connection attempts", &S::connect_failures);
  counter("bankd_db_pool_connections_broken_total", "Connections discarded as unusable", &S::broken);
  counter("bankd_db_pool_acquires_total", "Connections handed out", &S::acquires);
  counter("bankd_db_pool_exhausted_total", "Acquires that hit their deadline", &S::exhausted);
  counter("bankd_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections",
          &S::acquire_wait_ns, 1e-9);
  return out;
}

}  // namespace

registry::registry()
    : registry_(std::make_shared<prom::Registry>()),
      requests_(prom::BuildCounter()
                    .Name("bankd_http_requests_total")
                    .Help("HTTP requests by method, route and status")
                    .Register(*registry_)),
      latency_(prom::BuildHistogram()
                   .Name("bankd_http_request_duration_seconds")
                   .Help("Time from a complete request to its response, by route")
                   .Register(*registry_)),
      transactions_(prom::BuildCounter()
                        .Name("bankd_transactions_total")
                        .Help("Database transactions by operation and outcome")
                        .Register(*registry_)),
      attempts_(prom::BuildHistogram()
                    .Name("bankd_transaction_attempts")
                    .Help("Attempts needed per transaction, by operation")
                    .Register(*registry_)),
      conflicts_(prom::BuildCounter()
                     .Name("bankd_serialization_failures_total")
                     .Help("Attempts that ended in a serialization failure or deadlock (40001/40P01)")
                     .Register(*registry_)),
      batch_size_(prom::BuildHistogram()
                      .Name("bankd_engine_batch_movements")
                      .Help("Movements (transfers, deposits, holds, ...) per batch of the transfer engine")
                      .Register(*registry_)
                      .Add({}, batch_buckets)),
      batch_seconds_(prom::BuildHistogram()
                         .Name("bankd_engine_batch_seconds")
                         .Help("Time from sending a batch to its answer, retries included")
                         .Register(*registry_)
                         .Add({}, latency_buckets)),
      batch_attempts_(prom::BuildHistogram()
                          .Name("bankd_engine_batch_attempts")
                          .Help("Transaction attempts per batch")
                          .Register(*registry_)
                          .Add({}, attempt_buckets)),
      movements_(prom::BuildCounter()
                     .Name("bankd_engine_movements_total")
                     .Help("Movements answered by the transfer engine, by outcome")
                     .Register(*registry_)),
      queued_(prom::BuildGauge()
                  .Name("bankd_engine_queued_movements")
                  .Help("Movements waiting for the next batch, all workers")
                  .Register(*registry_)
                  .Add({})),
      expired_(prom::BuildCounter()
                   .Name("bankd_holds_expired_total")
                   .Help("Holds this process's sweeper expired")
                   .Register(*registry_)
                   .Add({})),
      sweeper_leading_(prom::BuildGauge()
                           .Name("bankd_sweeper_leading")
                           .Help("1 while this process's sweeper holds the sweeping lock")
                           .Register(*registry_)
                           .Add({})),
      webhook_deliveries_(prom::BuildCounter()
                              .Name("bankd_webhook_deliveries_total")
                              .Help("Webhook delivery attempts by outcome (delivered: a 2xx answer)")
                              .Register(*registry_)),
      webhook_seconds_(prom::BuildHistogram()
                           .Name("bankd_webhook_delivery_seconds")
                           .Help("Time of one webhook delivery attempt")
                           .Register(*registry_)
                           .Add({}, latency_buckets)),
      webhooks_disabled_(prom::BuildCounter()
                             .Name("bankd_webhook_endpoints_disabled_total")
                             .Help("Webhook endpoints this process disabled after failing too long")
                             .Register(*registry_)
                             .Add({})),
      webhook_endpoints_(prom::BuildGauge()
                             .Name("bankd_webhook_endpoints")
                             .Help("Webhook endpoints by status, as the delivering process last read them")
                             .Register(*registry_)),
      webhook_leading_(prom::BuildGauge()
                           .Name("bankd_webhook_leading")
                           .Help("1 while this process holds the webhook delivery lock")
                           .Register(*registry_)
                           .Add({})),
      events_lag_(prom::BuildGauge()
                      .Name("bankd_events_lag_seconds")
                      .Help("Age of the oldest event an enabled webhook endpoint has not received (0: caught up)")
                      .Register(*registry_)
                      .Add({})) {}

void registry::observe_batch(std::size_t movements, double seconds, int attempts) {
  batch_size_.Observe(static_cast<double>(movements));
  batch_seconds_.Observe(seconds);
  batch_attempts_.Observe(attempts);
}

void registry::observe_movement(std::string_view outcome) {
  thread_local std::unordered_map<std::string, prom::Counter*> cache;
  std::string key(outcome);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, &movements_.Add({{"outcome", key}})).first;
  it->second->Increment();
}

void registry::add_queued(std::int64_t delta) { queued_.Increment(static_cast<double>(delta)); }

void registry::observe_expired(std::size_t holds) { expired_.Increment(static_cast<double>(holds)); }

void registry::set_sweeper_leading(bool leading) { sweeper_leading_.Set(leading ? 1 : 0); }

void registry::observe_webhook_delivery(bool acknowledged, double seconds) {
  webhook_deliveries_.Add({{"outcome", acknowledged ? "delivered" : "failed"}}).Increment();
  webhook_seconds_.Observe(seconds);
}

void registry::observe_webhook_disabled() { webhooks_disabled_.Increment(); }

void registry::set_webhook_leading(bool leading) { webhook_leading_.Set(leading ? 1 : 0); }

void registry::set_webhook_endpoints(std::size_t enabled, std::size_t disabled) {
  webhook_endpoints_.Add({{"status", "enabled"}}).Set(static_cast<double>(enabled));
  webhook_endpoints_.Add({{"status", "disabled"}}).Set(static_cast<double>(disabled));
}

void registry::set_events_lag(double seconds) { events_lag_.Set(seconds); }

void registry::observe_request(std::string_view method, std::string_view route, unsigned status,
                              double seconds) {
  // Family::Add takes a lock and hashes the labels; each thread remembers the
  // series it has already looked up.
  struct series {
    prom::Counter* count;
    prom::Histogram* latency;
  };
  thread_local std::unordered_map<std::string, series> cache;
  std::string key;
  key.reserve(method.size() + route.size() + 8);
  key.append(method).append(" ").append(route).append(" ").append(std::to_string(status));
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string r(route);
    series s{&requests_.Add({{"method", std::string(method)}, {"route", r}, {"status", std::to_string(status)}}),
             &latency_.Add({{"route", r}}, latency_buckets)};
    it = cache.emplace(std::move(key), s).first;
  }
  it->second.count->Increment();
  it->second.latency->Observe(seconds);
}

void registry::on_transaction(const db::transaction_report& report) {
  const std::string op(report.operation);
  const char* outcome = report.end == db::run_end::committed           ? "committed"
                        : report.end == db::run_end::retries_exhausted ? "retries_exhausted"
                                                                       : "failed";
  transactions_.Add({{"operation", op}, {"outcome", outcome}}).Increment();
  attempts_.Add({{"operation", op}}, attempt_buckets).Observe(report.attempts);
  if (report.conflicts > 0) conflicts_.Add({{"operation", op}}).Increment(report.conflicts);
}

std::string registry::render() const {
  auto families = registry_->Collect();
  for (auto& f : pool_families(pools_)) families.push_back(std::move(f));
  auto dropped = family("bankd_log_lines_dropped_total",
                        "Log lines dropped because stderr did not keep up", prom::MetricType::Counter);
  add_value(dropped, static_cast<double>(log::dropped_lines()));
  families.push_back(std::move(dropped));
  std::ostringstream out;
  prom::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace bankd::metrics
