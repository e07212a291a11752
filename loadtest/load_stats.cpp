#include "loadtest/load_stats.hpp"

namespace bankd::loadtest {

void load_stats::record(const transfer_answer& answer, std::uint64_t latency_us) {
  ++requests_;
  ++interval_requests_;
  latency_.record(latency_us);
  interval_latency_.record(latency_us);
  ++statuses_[answer.label];
  switch (answer.kind) {
    case outcome::acknowledged:
      ++acknowledged_;
      break;
    case outcome::refused:
      ++refused_;
      break;
    case outcome::ambiguous:
      ++ambiguous_;
      break;
    case outcome::unsent:
      ++unsent_;
      break;
  }
  // Refusals the workload provokes: spending beyond the balance, settling a
  // hold that expired, reversing more than is left.
  const bool short_of_funds = answer.label.ends_with("409 insufficient_funds");
  const bool expected = answer.kind == outcome::acknowledged || short_of_funds ||
                        answer.label.ends_with("409 transfer_not_pending") ||
                        answer.label.ends_with("409 reversal_exceeds_remainder");
  if (short_of_funds) ++insufficient_funds_;
  if (!expected) {
    ++errors_;
    ++interval_errors_;
  }
  if (!answer.anomaly.empty()) {
    ++anomaly_count_;
    if (anomalies_.size() < max_anomalies) anomalies_.push_back(answer.anomaly);
  }
}

const timeline_point& load_stats::close_interval(double elapsed_s, double length_s) {
  timeline_point p;
  p.elapsed_s = elapsed_s;
  p.throughput = length_s > 0 ? static_cast<double>(interval_requests_) / length_s : 0;
  p.p99_ms = static_cast<double>(interval_latency_.quantile(0.99)) / 1000.0;
  p.errors = interval_errors_;
  timeline_.push_back(p);
  interval_latency_.reset();
  interval_requests_ = 0;
  interval_errors_ = 0;
  return timeline_.back();
}

}  // namespace bankd::loadtest
