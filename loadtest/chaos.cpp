#include "loadtest/chaos.hpp"

#include "loadtest/probe.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

namespace bankd::loadtest {
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto probe_timeout = 2s;
constexpr auto probe_gap = 200ms;
constexpr auto ready_limit = 30s;

const std::vector<std::string> all_kinds{"kill-backends", "restart-db", "stop-db", "kill-bankd",
                                         "failover", "drop-clients"};

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// pg_terminate_backend on every connection bankd has to this database (bankd
// connects with application_name=bankd; ours do not, and other databases on
// the cluster are left alone).
int terminate_bankd_backends(const std::string& database_url, std::string& problem) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(database_url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    problem = std::string("cannot connect: ") + PQerrorMessage(conn.get());
    return 0;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexecParams(conn.get(),
                   "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE datname = current_database() AND application_name = $1",
                   1, nullptr, std::array<const char*, 1>{"bankd"}.data(), nullptr, nullptr, 0),
      &PQclear);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    problem = std::string("pg_terminate_backend failed: ") + PQerrorMessage(conn.get());
    return 0;
  }
  return std::atoi(PQgetvalue(res.get(), 0, 0));
}

bool run_pg_ctl(const std::string& command, const char* action) {
  const auto line = command + " " + action + " >/dev/null 2>&1";
  return std::system(line.c_str()) == 0;  // NOLINT(cert-env33-c): the user's own command
}

}  // namespace

bool is_chaos_kind(const std::string& kind) {
  return std::find(all_kinds.begin(), all_kinds.end(), kind) != all_kinds.end();
}

chaos_monkey::chaos_monkey(const options& o, std::int64_t probe_account, bankd_child* bankd)
    : options_(o), probe_account_(probe_account), bankd_(bankd) {}

chaos_monkey::~chaos_monkey() {
  if (thread_.joinable()) finish();
}

void chaos_monkey::start() {
  started_ = clock_type::now();
  thread_ = std::thread([this] { loop(); });
}

chaos_summary chaos_monkey::finish() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return summary_;
}

bool chaos_monkey::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

// A run bounded by --transfers alone has no known end: faults go on until it stops.
bool chaos_monkey::time_left_for(const std::string& kind) const {
  if (options_.duration.count() == 0) return true;
  auto length = kind == "stop-db" ? options_.chaos_outage : 0ms;
  if (kind == "failover") length = options_.replication_stall + failover_first_201_limit;
  return clock_type::now() + length + recovery_window <= started_ + options_.duration;
}

void chaos_monkey::loop() {
  std::vector<std::string> kinds;
  for (const auto& k : options_.chaos)
    if (k != "drop-clients") kinds.push_back(k);
  const auto enough = [this](std::size_t turn) {
    return options_.chaos_count > 0 && turn >= options_.chaos_count;
  };
  for (std::size_t turn = 0; !kinds.empty() && !enough(turn) && wait(options_.chaos_interval);
       ++turn) {
    const auto& kind = kinds[turn % kinds.size()];
    const bool counted = options_.chaos_count > 0;
    if (!time_left_for(kind)) {
      summary_.not_started = counted ? options_.chaos_count - turn : 0;
      break;
    }
    inject(kind, counted && turn + 1 == options_.chaos_count);
  }
}

void chaos_monkey::inject(const std::string& kind, bool last) {
  chaos_event e;
  e.kind = kind;
  e.at_s = seconds_since(started_);
  const auto began = clock_type::now();
  if (kind == "kill-backends")
    kill_backends(e);
  else if (kind == "restart-db")
    restart_database(e);
  else if (kind == "stop-db")
    take_database_down(e);
  else if (kind == "failover")
    fail_over(e);
  else
    kill_bankd(e);
  e.outage_s = std::chrono::duration<double>(e.ended - began).count();
  if (e.injected) await_recovery(e);
  if (e.injected && kind == "failover") await_rejoin(e, !last);
  summary_.events.push_back(std::move(e));
}

void chaos_monkey::await_recovery(chaos_event& e) {
  e.ready_again_s = seconds_until_ready(options_.urls.front(), ready_limit);
  if (e.ready_again_s < 0) e.problems.emplace_back("bankd not ready 30 s after the fault");
}

void chaos_monkey::kill_backends(chaos_event& e) {
  std::string problem;
  e.backends_killed = terminate_bankd_backends(options_.database_url, problem);
  e.ended = clock_type::now();
  e.injected = e.backends_killed > 0;
  if (!problem.empty())
    e.problems.push_back(problem);
  else if (!e.injected)
    e.problems.emplace_back("no bankd backend to kill");
}

void chaos_monkey::restart_database(chaos_event& e) {
  e.injected = run_pg_ctl(options_.pg_ctl, "restart");
  e.ended = clock_type::now();
  if (!e.injected) e.problems.emplace_back("pg_ctl restart failed");
}

void chaos_monkey::take_database_down(chaos_event& e) {
  if (!run_pg_ctl(options_.pg_ctl, "stop")) {
    e.ended = clock_type::now();
    e.problems.emplace_back("pg_ctl stop failed");
    return;
  }
  e.injected = true;
  e.down_from = clock_type::now();
  watch_outage(e, e.down_from + options_.chaos_outage);
  e.down_until = clock_type::now();
  // Keep trying: a cluster left down would ruin every check after the load.
  for (int attempt = 0; attempt < 3 && !run_pg_ctl(options_.pg_ctl, "start"); ++attempt)
    e.problems.emplace_back("pg_ctl start failed");
  e.ended = clock_type::now();
}

void chaos_monkey::kill_bankd(chaos_event& e) {
  if (auto problem = bankd_->kill(); !problem.empty()) e.problems.push_back(problem);
  e.injected = true;
  if (auto problem = bankd_->start(); !problem.empty()) {
    e.problems.push_back(problem);
    e.injected = false;
  }
  e.ended = clock_type::now();
}

// While the database is down: /readyz must say 503, and a request that needs
// the database must be refused at once with 503 and Retry-After.
void chaos_monkey::watch_outage(chaos_event& e, clock_type::time_point until) {
  const auto& where = options_.urls.front();
  const auto account = "/accounts/" + std::to_string(probe_account_);
  while (clock_type::now() < until) {
    if (auto ready = probe(where, "/readyz", {}, probe_timeout); ready && ready->status == 503)
      e.readyz_503_seen = true;
    const auto sent = clock_type::now();
    auto answer = probe(where, account, options_.operator_key, probe_timeout);
    ++e.probes;
    e.slowest_probe_ms = std::max(e.slowest_probe_ms, seconds_since(sent) * 1000);
    if (answer && answer->status == 503 && answer->retry_after) ++e.probes_503;
    std::this_thread::sleep_for(probe_gap);
  }
  if (!e.readyz_503_seen)
    e.problems.emplace_back("/readyz never said 503 while the database was down");
  if (e.probes_503 < e.probes)
    e.problems.emplace_back("a request during the outage was not a 503 with Retry-After");
  if (e.slowest_probe_ms > outage_answer_limit_ms)
    e.problems.emplace_back("a request during the outage took over 1 s");
}

}  // namespace bankd::loadtest
