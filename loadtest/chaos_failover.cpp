// --chaos failover: the primary of a pg_auto_failover formation is killed
// (keeper, postmaster and backends, with SIGKILL) through --ha-ctl, the
// monitor promotes the secondary, and bankd, which lists both nodes in a
// multi-host DATABASE_URL with target_session_attrs=read-write, must follow
// it without a restart. Afterwards the killed node is started again and must
// rejoin as the secondary, so that the next failover goes back to it; after
// the last failover of --chaos-count nothing needs it back, and the run does
// not wait for it.
//
// --replication-stall first stops the primary's WAL senders for that long:
// with synchronous replication the commits then wait and nothing acknowledged
// is lost; with asynchronous replication (the negative control) they are
// acknowledged, never reach the standby and are lost in the failover, which
// the ledger check must report.

#include "loadtest/chaos.hpp"

#include "loadtest/probe.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <optional>
#include <string_view>

namespace bankd::loadtest {
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto writable_limit = 60s;
constexpr auto writable_poll = 100ms;
constexpr auto probe_timeout = 1s;
constexpr const char* rejoin_wait = "wait-healthy 90";

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Runs `command action`; its first line of output, or nullopt if it failed.
std::optional<std::string> run_ha_ctl(const std::string& command, std::string_view action) {
  const auto line = command + " " + std::string(action);
  FILE* pipe = ::popen(line.c_str(), "r");  // NOLINT(cert-env33-c): the user's own command
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  if (::pclose(pipe) != 0) return std::nullopt;
  return out.substr(0, out.find('\n'));
}

// A connection through `database_url` lands on a server that takes writes.
bool can_write(const std::string& database_url) {
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {database_url.c_str(), "1", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  const auto off = [conn](const char* name) {
    const char* value = PQparameterStatus(conn, name);
    return value != nullptr && std::string_view(value) == "off";
  };
  const bool ok = PQstatus(conn) == CONNECTION_OK && off("in_hot_standby") &&
                  off("default_transaction_read_only");
  PQfinish(conn);
  return ok;
}

}  // namespace

void chaos_monkey::fail_over(chaos_event& e) {
  if (options_.replication_stall.count() > 0) {
    if (!run_ha_ctl(options_.ha_ctl, "stall-replication")) {
      e.ended = clock_type::now();
      e.problems.emplace_back("--ha-ctl stall-replication failed");
      return;
    }
    std::this_thread::sleep_for(options_.replication_stall);
  }
  const auto killed = run_ha_ctl(options_.ha_ctl, "kill-primary");
  e.ended = e.down_from = clock_type::now();
  if (!killed) {
    e.problems.emplace_back("--ha-ctl kill-primary failed");
    return;
  }
  e.injected = true;
  e.killed_node = *killed;
  await_writable(e);
}

// Until a node takes writes again: /readyz must say 503 meanwhile.
void chaos_monkey::await_writable(chaos_event& e) {
  const auto& where = options_.urls.front();
  while (seconds_since(e.ended) < std::chrono::duration<double>(writable_limit).count()) {
    if (auto ready = probe(where, "/readyz", {}, probe_timeout); ready && ready->status == 503)
      e.readyz_503_seen = true;
    if (can_write(options_.database_url)) {
      e.writable_s = seconds_since(e.ended);
      break;
    }
    std::this_thread::sleep_for(writable_poll);
  }
  e.down_until = clock_type::now();
  if (e.writable_s < 0) e.problems.emplace_back("no node took writes within 60 s of the kill");
  if (!e.readyz_503_seen)
    e.problems.emplace_back("/readyz never said 503 while no node took writes");
}

// The killed node started again must come back as the secondary (when
// `wait_for_it`: another failover is to come and needs it).
void chaos_monkey::await_rejoin(chaos_event& e, bool wait_for_it) {
  e.rejoin_awaited = wait_for_it;  // set first: a failed start must read "never rejoined"
  if (!run_ha_ctl(options_.ha_ctl, "rejoin")) {
    e.problems.emplace_back("--ha-ctl rejoin failed");
    return;
  }
  if (!wait_for_it) return;
  if (!run_ha_ctl(options_.ha_ctl, rejoin_wait)) {
    e.problems.emplace_back(e.killed_node + " did not rejoin as the secondary within 90 s");
    return;
  }
  e.rejoined_s = seconds_since(e.ended);
}

}  // namespace bankd::loadtest
