#include "loadtest/runner.hpp"

#include "loadtest/audit.hpp"
#include "loadtest/bank_api.hpp"
#include "loadtest/bankd_child.hpp"
#include "loadtest/chaos.hpp"
#include "loadtest/ledger_check.hpp"
#include "loadtest/load.hpp"
#include "loadtest/plot.hpp"
#include "loadtest/progress.hpp"
#include "loadtest/resolver.hpp"
#include "loadtest/setup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>
#include <random>
#include <sstream>

namespace bankd::loadtest {
namespace net = boost::asio;

namespace {

constexpr std::string_view retries_metric = "bankd_serialization_failures_total";

std::string make_run_id(std::mt19937_64& rng) {
  std::ostringstream id;
  id << "lt" << std::hex << (rng() & 0xffffffffffULL);
  return id.str();
}

// Everything the coroutine part of a run produces, besides the record.
struct run_state {
  std::unique_ptr<load_phase> load;
  chaos_summary chaos;
  std::optional<double> retries_before, retries_after;
  resolve_summary resolved;
  audit_summary audits;
  std::vector<violation> final_violations;
  std::vector<std::string> notes;
};

class connections {
 public:
  connections(net::any_io_executor ex, const options& o) {
    for (std::size_t i = 0; i < o.concurrency; ++i)
      workers_.push_back(std::make_unique<http_connection>(ex, o.urls[i % o.urls.size()]));
    for (const auto& url : o.urls) metrics_.push_back(std::make_unique<http_connection>(ex, url));
    audit_ = std::make_unique<http_connection>(ex, o.urls.front());
  }
  std::vector<http_connection*> workers() const {
    std::vector<http_connection*> out;
    for (const auto& c : workers_) out.push_back(c.get());
    return out;
  }
  http_connection& audit() { return *audit_; }
  // The counter summed over every instance; nullopt if one cannot be read.
  net::awaitable<std::optional<double>> scrape(std::chrono::milliseconds timeout) {
    double sum = 0;
    for (auto& c : metrics_) {
      const auto value = co_await scrape_counter(*c, retries_metric, timeout);
      if (!value) co_return std::nullopt;
      sum += *value;
    }
    co_return sum;
  }
  void close_workers() {
    for (auto& c : workers_) c->close();
  }

 private:
  std::vector<std::unique_ptr<http_connection>> workers_, metrics_;
  std::unique_ptr<http_connection> audit_;
};

bool some_unanswered(const run_record& record) {
  for (const auto& a : record.attempts)
    if (a.first == outcome::ambiguous && a.status == 0) return true;
  return false;
}

net::awaitable<void> pause(std::chrono::milliseconds d) {
  net::steady_timer timer(co_await net::this_coro::executor, d);
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> check_after_load(const options& o, run_record& record, connections& conns,
                                      auditor& audits, run_state& state) {
  conns.close_workers();
  // A request that timed out may still be queued in bankd; let it finish
  // before a replay decides its fate.
  if (some_unanswered(record))
    co_await pause(std::min(o.request_timeout, std::chrono::milliseconds(5000)));
  state.resolved = co_await resolve_ambiguous(conns.workers(), record, o.request_timeout);
  if (const auto reading = co_await audits.audit_once("final audit")) {
    state.final_violations = check_final_balances(*reading, record);
  } else {
    state.notes.push_back("final audit failed: " + audits.last_failure());
  }
  conns.close_workers();
}

net::awaitable<void> run_phases(const options& o, run_record& record, run_state& state,
                                progress_printer& progress, std::uint64_t seed,
                                bankd_child* bankd) {
  connections conns(co_await net::this_coro::executor, o);
  progress.message("run " + record.run_id + ": setting up " + std::to_string(o.accounts) +
                   " funded accounts");
  co_await set_up_accounts(conns.workers(), record, o);
  if (!o.accounts_file.empty()) write_accounts_csv(o.accounts_file, record);
  if (o.setup_only) co_return;

  auditor audits(conns.audit(), record, o.operator_key, o.request_timeout);
  if (!co_await audits.audit_once("audit before the load"))
    throw std::runtime_error("the audit before the load failed: " + audits.last_failure());
  state.retries_before = co_await conns.scrape(o.request_timeout);
  progress.message("run " + record.run_id + ": load started");
  state.load = std::make_unique<load_phase>(o, record, conns.workers(), audits, progress, seed);
  {
    chaos_monkey monkey(o, record.accounts.front().id, bankd);
    monkey.start();
    co_await state.load->run();
    state.chaos = monkey.finish();  // the database is back before the checks
  }
  assess_faults(state.chaos, record.attempts, state.load->finished_at());
  state.retries_after = co_await conns.scrape(o.request_timeout);
  co_await check_after_load(o, record, conns, audits, state);
  state.audits = audits.summary();
}

std::string describe_model(const options& o) {
  std::ostringstream out;
  if (o.rate > 0)
    out << "open model at " << o.rate << "/s over " << o.concurrency << " connections";
  else
    out << "closed model, " << o.concurrency << " connections";
  if (!o.mix.transfers_only()) out << ", mix " << o.mix.text() << ", holds of 1.." << o.hold_timeout_max << " s";
  return out.str();
}

void fill_load(run_report& r, const run_state& s) {
  const auto& stats = s.load->stats();
  r.elapsed_s = s.load->elapsed_s();
  r.requests = stats.requests();
  r.acknowledged = stats.acknowledged();
  r.refused = stats.refused();
  r.ambiguous = stats.ambiguous();
  r.unsent = stats.unsent();
  r.insufficient_funds = stats.insufficient_funds();
  r.errors = stats.errors();
  r.throughput = r.elapsed_s > 0 ? static_cast<double>(r.requests) / r.elapsed_s : 0;
  r.committed_per_s = r.elapsed_s > 0 ? static_cast<double>(r.acknowledged) / r.elapsed_s : 0;
  r.latency = summarize(stats.latency());
  r.statuses = stats.statuses();
  r.timeline = stats.timeline();
  r.serialization_failures_before = s.retries_before;
  r.serialization_failures_after = s.retries_after;
  for (const auto& a : stats.anomalies()) r.violations.push_back({"answer", a});
}

void fill_integrity(run_report& r, run_state& s) {
  r.audits_run = s.audits.run;
  r.audits_failed = s.audits.failed;
  r.audits_violating = s.audits.violating;
  r.resolved_committed = s.resolved.committed;
  r.resolved_not_committed = s.resolved.not_committed;
  r.unresolved = s.resolved.unresolved;
  for (auto* list : {&s.audits.violations, &s.resolved.violations, &s.final_violations})
    r.violations.insert(r.violations.end(), list->begin(), list->end());
  r.notes.insert(r.notes.end(), s.notes.begin(), s.notes.end());
  r.chaos = s.chaos;
  if (s.load) r.dropped_clients = s.load->dropped();
  if (r.dropped_clients > 0) r.chaos.injected["drop-clients"] = static_cast<int>(r.dropped_clients);
  for (const auto& problem : r.chaos.problems) r.violations.push_back({"chaos", problem});
}

void check_ledger(const options& o, const run_record& record, run_report& r) {
  if (o.database_url.empty()) {
    r.notes.push_back("ledger checks skipped: no --database-url");
    return;
  }
  auto ledger = verify_ledger(o.database_url, record);
  r.ledger_checked = true;
  r.ledger_rows = ledger.run_rows;
  if (const auto& h = ledger.holds; h.made > 0)
    r.notes.push_back("holds: " + std::to_string(h.made) + " made, " + std::to_string(h.posted) + " posted, " +
                      std::to_string(h.voided) + " voided, " + std::to_string(h.expired) + " expired (at most " +
                      std::to_string(h.max_expiry_lag_ms) + " ms after the deadline), " + std::to_string(h.open) +
                      " still open");
  r.violations.insert(r.violations.end(), ledger.violations.begin(), ledger.violations.end());
}

verdict decide(const run_report& r) {
  if (!r.violations.empty()) return verdict::violated;
  if (r.unresolved > 0 || r.audits_run < 2) return verdict::inconclusive;
  return verdict::ok;
}

}  // namespace

run_result run(const options& o, std::ostream& progress_out) {
  validate(o);
  std::mt19937_64 rng(o.seed != 0 ? o.seed : std::random_device{}());
  run_result result;
  result.record.run_id = make_run_id(rng);
  progress_printer progress(o.progress, progress_out);
  // Declared first so it is destroyed last: run_state holds timers and
  // sockets whose destructors still reach into the io_context's services.
  // bankd of our own (--bankd-cmd) lives through the replays and the final
  // audit, which need it, and is stopped before the ledger check.
  std::unique_ptr<bankd_child> bankd;
  if (!o.bankd_cmd.empty()) {
    progress.message("starting bankd: " + o.bankd_cmd);
    bankd = std::make_unique<bankd_child>(o.bankd_cmd, o.urls.front());
  }
  net::io_context ioc(1);
  run_state state;

  auto done = net::co_spawn(ioc, run_phases(o, result.record, state, progress, rng(), bankd.get()),
                            net::use_future);
  ioc.run();
  done.get();
  if (bankd)
    if (auto how = bankd->stop(); !how.empty()) state.notes.push_back("bankd " + how);

  auto& r = result.report;
  r.run_id = result.record.run_id;
  for (const auto& u : o.urls) r.urls.push_back(u.text());
  r.accounts = o.accounts;
  r.distribution = o.pick.text();
  r.model = describe_model(o);
  if (o.setup_only) return result;
  fill_load(r, state);
  fill_integrity(r, state);
  check_ledger(o, result.record, r);
  r.result = decide(r);
  if (!o.plot_file.empty())
    if (auto problem =
            draw_plot(o.plot_file, "bankd " + r.distribution + ", " + r.model, r.timeline);
        !problem.empty())
      r.notes.push_back("no plot: " + problem);
  if (!o.json_file.empty()) write_json(o.json_file, r);
  return result;
}

}  // namespace bankd::loadtest
