#include "loadtest/chaos.hpp"

#include "loadtest/http_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace bankd::loadtest {
namespace net = boost::asio;
using boost::beast::http::verb;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto probe_timeout = 2s;
constexpr auto probe_gap = 200ms;
constexpr auto ready_limit = 30s;
// A request while the database is away must be answered within this: the
// pool fails fast instead of waiting out its acquire deadline.
constexpr double fail_fast_ms = 1000;

const std::vector<std::string> database_kinds{"kill-backends", "restart-db", "stop-db"};

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// One request on a connection of its own, run to completion on this thread.
exec_result probe(const endpoint& where, const std::string& target, const std::string& key) {
  net::io_context ioc(1);
  http_connection conn(ioc.get_executor(), where);
  // Named, not a temporary: the coroutine keeps a reference until ioc.run() ends.
  const request_parts parts{{}, key, {}};
  auto done = net::co_spawn(ioc, conn.exec(verb::get, target, parts, probe_timeout), net::use_future);
  ioc.run();
  return done.get();
}

// pg_terminate_backend on every connection bankd has to this database.
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
  return kind == "drop-clients" ||
         std::find(database_kinds.begin(), database_kinds.end(), kind) != database_kinds.end();
}

chaos_monkey::chaos_monkey(const options& o, std::int64_t probe_account)
    : options_(o), probe_account_(probe_account) {}

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

void chaos_monkey::loop() {
  std::vector<std::string> kinds;
  for (const auto& k : options_.chaos)
    if (k != "drop-clients") kinds.push_back(k);
  for (std::size_t turn = 0; !kinds.empty() && wait(options_.chaos_interval); ++turn)
    inject(kinds[turn % kinds.size()]);
}

void chaos_monkey::inject(const std::string& kind) {
  const double at = seconds_since(started_);
  auto e = kind == "kill-backends" ? kill_backends() : take_database_down(kind == "restart-db");
  e.kind = kind;
  e.at_s = at;
  if (e.problem.empty())
    ++summary_.injected[kind];
  else
    summary_.problems.push_back(kind + " at " + std::to_string(at) + " s: " + e.problem);
  summary_.events.push_back(std::move(e));
}

chaos_event chaos_monkey::kill_backends() {
  chaos_event e;
  if (options_.database_url.empty()) {
    e.problem = "needs --database-url";
    return e;
  }
  e.backends_killed = terminate_bankd_backends(options_.database_url, e.problem);
  if (e.problem.empty() && e.backends_killed == 0) e.problem = "no bankd backend to kill";
  const auto since = clock_type::now();
  e.ready_again_s = time_to_ready(ready_limit) >= 0 ? seconds_since(since) : -1;
  return e;
}

chaos_event chaos_monkey::take_database_down(bool restart) {
  chaos_event e;
  if (options_.pg_ctl.empty()) {
    e.problem = "needs --pg-ctl";
    return e;
  }
  const auto down = clock_type::now();
  if (restart) {
    if (!run_pg_ctl(options_.pg_ctl, "restart")) e.problem = "pg_ctl restart failed";
  } else if (!run_pg_ctl(options_.pg_ctl, "stop")) {
    e.problem = "pg_ctl stop failed";
  } else {
    watch_outage(e, clock_type::now() + options_.chaos_outage);
    if (!run_pg_ctl(options_.pg_ctl, "start")) e.problem = "pg_ctl start failed";
  }
  e.outage_s = seconds_since(down);
  e.ready_again_s = time_to_ready(ready_limit);
  if (e.ready_again_s < 0 && e.problem.empty()) e.problem = "bankd not ready 30 s after";
  return e;
}

// While the database is down: /readyz must say 503, and a request that needs
// the database must be refused at once with 503 and Retry-After.
void chaos_monkey::watch_outage(chaos_event& e, clock_type::time_point until) {
  const auto& where = options_.urls.front();
  const auto account = "/accounts/" + std::to_string(probe_account_);
  while (clock_type::now() < until) {
    if (auto ready = probe(where, "/readyz", {}); ready && ready->status == 503)
      e.readyz_503_seen = true;
    const auto sent = clock_type::now();
    auto answer = probe(where, account, options_.operator_key);
    const double ms = seconds_since(sent) * 1000;
    ++e.probes;
    e.slowest_probe_ms = std::max(e.slowest_probe_ms, ms);
    if (answer && answer->status == 503 && answer->retry_after) ++e.probes_503;
    std::this_thread::sleep_for(probe_gap);
  }
  if (!e.readyz_503_seen)
    e.problem = "/readyz never said 503 while the database was down";
  else if (e.probes_503 < e.probes)
    e.problem = "a request during the outage was not a 503 with Retry-After";
  else if (e.slowest_probe_ms > fail_fast_ms)
    e.problem = "a request during the outage took over 1 s";
}

// Seconds until /readyz answers 200; -1 if it does not within `limit`.
double chaos_monkey::time_to_ready(std::chrono::milliseconds limit) {
  const auto since = clock_type::now();
  while (clock_type::now() - since < limit) {
    if (auto ready = probe(options_.urls.front(), "/readyz", {}); ready && ready->status == 200)
      return seconds_since(since);
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

}  // namespace bankd::loadtest
