#include "loadtest/report.hpp"

#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace bankd::loadtest {
using nlohmann::json;

namespace {

constexpr std::size_t max_printed_violations = 30;

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

void row(std::ostream& out, std::string_view name, const std::string& value) {
  out << "  " << std::left << std::setw(34) << name << value << "\n";
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::ok:
      return "OK";
    case verdict::violated:
      return "VIOLATED";
    case verdict::inconclusive:
      return "INCONCLUSIVE";
  }
  return "?";
}

std::optional<double> run_report::serialization_retries() const {
  if (!serialization_failures_before || !serialization_failures_after) return std::nullopt;
  return *serialization_failures_after - *serialization_failures_before;
}

latency_ms summarize(const histogram& h) {
  const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  return {ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)),
          ms(h.max())};
}

std::string describe_event(const chaos_event& e) {
  std::string text = "at " + fixed(e.at_s, 1) + " s";
  if (!e.injected) return text + ": not injected";
  if (e.kind == "kill-backends") text += ": " + std::to_string(e.backends_killed) + " backends";
  if (e.kind == "stop-db" || e.kind == "restart-db")
    text += ", database away " + fixed(e.outage_s, 2) + " s";
  if (e.kind == "failover")
    text += ": " + e.killed_node + " killed, a node took writes " +
            (e.writable_s >= 0 ? fixed(e.writable_s, 2) + " s after" : "never");
  if (e.probes > 0)
    text += ", " + std::to_string(e.probes_503) + "/" + std::to_string(e.probes) +
            " probes 503+Retry-After (slowest " + fixed(e.slowest_probe_ms, 1) + " ms)" +
            (e.readyz_503_seen ? ", /readyz 503" : ", /readyz never 503");
  if (e.outage_transfers > 0)
    text += ", " + std::to_string(e.outage_transfers_503) + "/" +
            std::to_string(e.outage_transfers) + " transfers 503+Retry-After (slowest " +
            fixed(e.slowest_outage_transfer_ms, 1) + " ms)";
  text += e.ready_again_s >= 0 ? ", ready " + fixed(e.ready_again_s, 2) + " s after"
                               : ", never ready again";
  text += e.first_201_s >= 0 ? ", first 201 " + fixed(e.first_201_s, 2) + " s after"
                             : ", no 201 after it";
  if (e.kind == "failover" && e.writable_s >= 0 && e.first_201_s >= 0)
    text += " (" + fixed(e.first_201_after_writable_s, 2) + " s after writable)";
  if (e.kind == "failover" && !e.rejoin_awaited)
    text += ", " + e.killed_node + " started again (rejoin not awaited: no failover after it)";
  else if (e.kind == "failover")
    text += e.rejoined_s >= 0 ? ", " + e.killed_node + " secondary again " +
                                    fixed(e.rejoined_s, 1) + " s after the kill"
                              : ", " + e.killed_node + " never rejoined";
  return text;
}

void print_chaos(std::ostream& out, const run_report& r) {
  if (r.chaos.injected.empty() && r.chaos.problems.empty()) return;
  std::string injected;
  for (const auto& [kind, count] : r.chaos.injected)
    injected += (injected.empty() ? "" : ", ") + kind + " x" + std::to_string(count);
  row(out, "faults injected", injected.empty() ? "none" : injected);
  for (const auto& e : r.chaos.events) row(out, "fault " + e.kind, describe_event(e));
  if (r.chaos.not_started > 0)
    row(out, "faults not started", std::to_string(r.chaos.not_started) + " (too little of the run left)");
}

void print_table(std::ostream& out, const run_report& r) {
  out << "bank-loadtest run " << r.run_id << "\n";
  row(out, "target", joined(r.urls));
  row(out, "workload",
      std::to_string(r.accounts) + " accounts, " + r.distribution + ", " + r.model);
  row(out, "duration", fixed(r.elapsed_s, 2) + " s");
  row(out, "throughput",
      fixed(r.throughput, 1) + " transfers/s answered, " + fixed(r.committed_per_s, 1) +
          " committed/s (" + std::to_string(r.requests) + " requests)");
  const auto& l = r.latency;
  row(out, "latency ms",
      "p50 " + fixed(l.p50, 3) + "  p90 " + fixed(l.p90, 3) + "  p99 " + fixed(l.p99, 3) +
          "  p99.9 " + fixed(l.p999, 3) + "  max " + fixed(l.max, 3));
  for (const auto& [status, count] : r.statuses)
    row(out, "status " + status, std::to_string(count));
  row(out, "insufficient funds", std::to_string(r.insufficient_funds));
  const auto retries = r.serialization_retries();
  row(out, "serialization retries",
      retries ? fixed(*retries, 0) + " (bankd_serialization_failures_total " +
                    fixed(*r.serialization_failures_before, 0) + " -> " +
                    fixed(*r.serialization_failures_after, 0) + ")"
              : "unknown (/metrics not readable)");
  row(out, "audits",
      std::to_string(r.audits_run) + " run, " + std::to_string(r.audits_failed) + " failed, " +
          std::to_string(r.audits_violating) + " saw a wrong total");
  row(out, "ambiguous",
      std::to_string(r.ambiguous) + " (replays: " + std::to_string(r.resolved_committed) +
          " committed, " + std::to_string(r.resolved_not_committed) + " not, " +
          std::to_string(r.unresolved) + " unresolved)");
  row(out, "ledger",
      r.ledger_checked ? std::to_string(r.ledger_rows) + " rows for this run, checked"
                       : "not checked");
  print_chaos(out, r);
  for (const auto& n : r.notes) row(out, "note", n);
  for (std::size_t i = 0; i < r.violations.size() && i < max_printed_violations; ++i)
    row(out, "VIOLATION " + r.violations[i].check, r.violations[i].evidence);
  if (r.violations.size() > max_printed_violations)
    row(out, "VIOLATION",
        "... " + std::to_string(r.violations.size() - max_printed_violations) +
            " more (see --json)");
  row(out, "verdict", std::string(to_string(r.result)));
}

// Every reported field of a fault, under its own name; the time points stay out.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(chaos_event, kind, at_s, injected, backends_killed, outage_s,
                                   ready_again_s, first_201_s, probes, probes_503, readyz_503_seen,
                                   slowest_probe_ms, outage_transfers, outage_transfers_503,
                                   slowest_outage_transfer_ms, killed_node, writable_s,
                                   first_201_after_writable_s, rejoined_s, rejoin_awaited, problems)

json chaos_json(const run_report& r) {
  return {{"injected", r.chaos.injected},
          {"dropped_clients", r.dropped_clients},
          {"events", r.chaos.events},
          {"not_started", r.chaos.not_started},
          {"problems", r.chaos.problems}};
}

json to_json(const run_report& r) {
  json timeline = json::array();
  for (const auto& p : r.timeline)
    timeline.push_back({{"elapsed_s", p.elapsed_s},
                        {"throughput", p.throughput},
                        {"p99_ms", p.p99_ms},
                        {"errors", p.errors}});
  json violations = json::array();
  for (const auto& v : r.violations)
    violations.push_back({{"check", v.check}, {"evidence", v.evidence}});
  const auto retries = r.serialization_retries();
  return {
      {"run_id", r.run_id},
      {"urls", r.urls},
      {"accounts", r.accounts},
      {"distribution", r.distribution},
      {"model", r.model},
      {"elapsed_s", r.elapsed_s},
      {"requests", r.requests},
      {"throughput", r.throughput},
      {"committed_per_s", r.committed_per_s},
      {"latency_ms",
       {{"p50", r.latency.p50},
        {"p90", r.latency.p90},
        {"p99", r.latency.p99},
        {"p99_9", r.latency.p999},
        {"max", r.latency.max}}},
      {"outcomes",
       {{"acknowledged", r.acknowledged},
        {"refused", r.refused},
        {"ambiguous", r.ambiguous},
        {"unsent", r.unsent},
        {"errors", r.errors}}},
      {"statuses", r.statuses},
      {"insufficient_funds", r.insufficient_funds},
      {"serialization_retries", retries ? json(*retries) : json(nullptr)},
      {"serialization_failures_total",
       {{"before",
         r.serialization_failures_before ? json(*r.serialization_failures_before) : json(nullptr)},
        {"after",
         r.serialization_failures_after ? json(*r.serialization_failures_after) : json(nullptr)}}},
      {"audits",
       {{"run", r.audits_run}, {"failed", r.audits_failed}, {"violating", r.audits_violating}}},
      {"ambiguous_resolution",
       {{"committed", r.resolved_committed},
        {"not_committed", r.resolved_not_committed},
        {"unresolved", r.unresolved}}},
      {"ledger", {{"checked", r.ledger_checked}, {"rows", r.ledger_rows}}},
      {"notes", r.notes},
      {"chaos", chaos_json(r)},
      {"violations", violations},
      {"verdict", to_string(r.result)},
      {"timeline", timeline},
  };
}

void write_json(const std::string& path, const run_report& r) {
  std::ofstream out(path);
  out << to_json(r).dump(2) << "\n";
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace bankd::loadtest
