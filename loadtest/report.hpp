#pragma once
// A run's results: the numbers, the integrity verdict and its evidence, as a
// table for people and as JSON for tools.

#include "loadtest/chaos.hpp"
#include "loadtest/load_stats.hpp"
#include "loadtest/options.hpp"
#include "loadtest/run_record.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bankd::loadtest {

enum class verdict {
  ok,            // every check ran and held
  violated,      // an invariant is broken: see violations
  inconclusive,  // nothing broken, but some outcomes stayed unknown
};
std::string_view to_string(verdict v);

struct latency_ms {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

struct run_report {
  // What ran
  std::string run_id;
  std::vector<std::string> urls;
  std::size_t accounts = 0;
  std::string distribution;
  std::string model;  // "closed, 16 connections" / "open, 2000/s over 64 connections"
  double elapsed_s = 0;

  // Load
  std::uint64_t requests = 0, acknowledged = 0, refused = 0, ambiguous = 0, unsent = 0;
  std::uint64_t insufficient_funds = 0, errors = 0;
  double throughput = 0;  // answered requests per second
  double committed_per_s = 0;
  latency_ms latency;
  std::map<std::string, std::uint64_t> statuses;
  std::vector<timeline_point> timeline;
  std::optional<double> serialization_failures_before, serialization_failures_after;

  // Integrity
  std::uint64_t audits_run = 0, audits_failed = 0, audits_violating = 0;
  std::uint64_t resolved_committed = 0, resolved_not_committed = 0, unresolved = 0;
  bool ledger_checked = false;
  std::uint64_t ledger_rows = 0;
  std::vector<std::string> notes;  // checks skipped and why
  std::vector<violation> violations;

  // Faults injected with --chaos; a misbehaving bankd is a violation.
  chaos_summary chaos;
  std::uint64_t dropped_clients = 0;
  verdict result = verdict::ok;

  std::optional<double> serialization_retries() const;
  bool ok() const noexcept { return result == verdict::ok; }
};

latency_ms summarize(const histogram& h);  // microseconds in, milliseconds out
void print_table(std::ostream& out, const run_report& r);
nlohmann::json to_json(const run_report& r);
void write_json(const std::string& path, const run_report& r);

}  // namespace bankd::loadtest
