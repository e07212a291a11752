// assess_faults(): plain code over the run's record, after the load, so the
// load's thread never has to share anything with the chaos thread.

#include "loadtest/chaos.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace bankd::loadtest {
using clock_type = std::chrono::steady_clock;

namespace {

double seconds(clock_type::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string at_text(const chaos_event& e) {
  std::ostringstream out;
  out << e.kind << " at " << std::fixed << std::setprecision(1) << e.at_s << " s: ";
  return out.str();
}

// stop-db: every transfer the load sent while the database was down.
void match_outage(chaos_event& e, const std::deque<attempt>& attempts) {
  for (const auto& a : attempts) {
    if (a.abandoned || a.sent_at < e.down_from || a.sent_at >= e.down_until) continue;
    ++e.outage_transfers;
    if (a.status == 503 && a.retry_after) ++e.outage_transfers_503;
    e.slowest_outage_transfer_ms =
        std::max(e.slowest_outage_transfer_ms, seconds(a.answered_at - a.sent_at) * 1000);
  }
  if (e.outage_transfers == 0)
    e.problems.emplace_back("the load sent no transfer while the database was down");
  if (e.outage_transfers_503 < e.outage_transfers)
    e.problems.push_back(std::to_string(e.outage_transfers - e.outage_transfers_503) + " of " +
                         std::to_string(e.outage_transfers) +
                         " transfers during the outage were not a 503 with Retry-After");
  if (e.slowest_outage_transfer_ms > outage_answer_limit_ms)
    e.problems.emplace_back("a transfer during the outage took over 1 s");
}

// The first transfer sent after the fault that was acknowledged.
void match_recovery(chaos_event& e, const std::deque<attempt>& attempts,
                    clock_type::time_point load_end) {
  auto first = clock_type::time_point::max();
  for (const auto& a : attempts)
    if (a.first == outcome::acknowledged && a.sent_at >= e.ended)
      first = std::min(first, a.answered_at);
  if (first != clock_type::time_point::max())
    e.first_201_s = seconds(first - e.ended);
  else if (load_end - e.ended >= recovery_window)
    e.problems.push_back("no transfer acknowledged in the " +
                         std::to_string(static_cast<int>(seconds(load_end - e.ended))) +
                         " s of load after the fault");
}

// failover: the load's transfers sent after the kill and answered before the
// first 201 (those answered later were the new primary's to decide).
void match_failover(chaos_event& e, const std::deque<attempt>& attempts) {
  if (e.first_201_s < 0) return;  // match_recovery has said so
  const auto first_201 = e.ended + std::chrono::duration_cast<clock_type::duration>(
                                       std::chrono::duration<double>(e.first_201_s));
  for (const auto& a : attempts) {
    if (a.abandoned || a.sent_at < e.ended || a.answered_at >= first_201) continue;
    // A refusal the new primary decided (a batch answers all its items at
    // once, and another connection may read its 201 a moment later) is an
    // answer, not part of the outage.
    if (a.first == outcome::refused) continue;
    ++e.outage_transfers;
    if (a.status == 503 && a.retry_after) ++e.outage_transfers_503;
    e.slowest_outage_transfer_ms =
        std::max(e.slowest_outage_transfer_ms, seconds(a.answered_at - a.sent_at) * 1000);
  }
  if (e.writable_s >= 0) e.first_201_after_writable_s = e.first_201_s - e.writable_s;
  const auto limit = static_cast<double>(failover_first_201_limit.count());
  if (e.first_201_s > limit)
    e.problems.push_back("first 201 " + std::to_string(e.first_201_s) + " s after the kill, over " +
                         std::to_string(failover_first_201_limit.count()) + " s");
}

}  // namespace

void assess_faults(chaos_summary& summary, const std::deque<attempt>& attempts,
                   clock_type::time_point load_end) {
  for (auto& e : summary.events) {
    if (e.injected) {
      ++summary.injected[e.kind];
      if (e.kind == "stop-db") match_outage(e, attempts);
      match_recovery(e, attempts, load_end);
      if (e.kind == "failover") match_failover(e, attempts);
    }
    for (const auto& p : e.problems) summary.problems.push_back(at_text(e) + p);
  }
}

}  // namespace bankd::loadtest
