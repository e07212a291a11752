#pragma once
// Counts and latencies of the load phase, for the whole run and for the
// current progress interval (whose numbers become a timeline point when it
// closes). Single-threaded: only the load thread records.

#include "loadtest/bank_api.hpp"
#include "loadtest/histogram.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bankd::loadtest {

struct timeline_point {
  double elapsed_s = 0;
  double throughput = 0;     // answered requests per second in the interval
  double p99_ms = 0;         // of the interval
  std::uint64_t errors = 0;  // in the interval
};

class load_stats {
 public:
  void record(const transfer_answer& answer, std::uint64_t latency_us);
  // Ends the current interval (of `length_s` seconds) at `elapsed_s`.
  const timeline_point& close_interval(double elapsed_s, double length_s);

  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t acknowledged() const noexcept { return acknowledged_; }
  std::uint64_t refused() const noexcept { return refused_; }
  std::uint64_t ambiguous() const noexcept { return ambiguous_; }
  std::uint64_t unsent() const noexcept { return unsent_; }
  std::uint64_t insufficient_funds() const noexcept { return insufficient_funds_; }
  // Answers other than successes and the refusals the workload provokes
  // (insufficient funds, a hold past its deadline, a reversal beyond what
  // is left): the unexpected ones.
  std::uint64_t errors() const noexcept { return errors_; }
  const histogram& latency() const noexcept { return latency_; }
  const std::map<std::string, std::uint64_t>& statuses() const noexcept { return statuses_; }
  const std::vector<timeline_point>& timeline() const noexcept { return timeline_; }
  // Answers that contradict their request (the first hundred are kept).
  std::uint64_t anomaly_count() const noexcept { return anomaly_count_; }
  const std::vector<std::string>& anomalies() const noexcept { return anomalies_; }

 private:
  static constexpr std::size_t max_anomalies = 100;

  std::uint64_t requests_ = 0, acknowledged_ = 0, refused_ = 0, ambiguous_ = 0, unsent_ = 0;
  std::uint64_t insufficient_funds_ = 0, errors_ = 0, anomaly_count_ = 0;
  histogram latency_;
  histogram interval_latency_;
  std::uint64_t interval_requests_ = 0, interval_errors_ = 0;
  std::map<std::string, std::uint64_t> statuses_;
  std::vector<timeline_point> timeline_;
  std::vector<std::string> anomalies_;
};

}  // namespace bankd::loadtest
