#pragma once
// bank-loadtest's settings: one aggregate with documented defaults, filled
// from the command line (and BANKD_OPERATOR_KEY) by parse_options(). Tests
// fill it directly.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::loadtest {

// A bankd instance, from --url http://host:port (an IPv6 host in brackets).
struct endpoint {
  std::string host;  // a name or an address, without brackets
  std::uint16_t port = 0;
  // host:port as a Host header and logs write it: [::1]:8080 for IPv6.
  std::string text() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

// How transfers choose their accounts, within one currency.
struct distribution {
  enum class kind { uniform, zipf, hot };
  kind type = kind::uniform;
  double skew = 1.0;             // zipf: rank r is chosen with weight 1/(r+1)^skew
  std::size_t hot_accounts = 0;  // hot: every transfer is between the first K accounts
  std::string text() const;
};

enum class progress_mode { automatic, live, plain, off };  // automatic: live on a terminal

struct options {
  std::vector<endpoint> urls;  // workers are dealt over them in turn
  std::string operator_key;    // creates users, deposits, audits
  std::string database_url;    // read-only ledger checks; empty: skipped

  // Setup
  std::size_t accounts = 1000;  // one user with one account each; at most 10,000 (one audit)
  std::vector<std::string> currencies{"EUR"};  // account i holds currencies[i % size]
  std::int64_t deposit = 10'000;               // minor units deposited into every account

  // Load
  std::chrono::milliseconds duration{10'000};
  std::uint64_t transfers = 0;   // > 0: stop after this many requests (or duration, if first)
  std::size_t concurrency = 16;  // connections; closed model: requests in flight
  double rate = 0;               // > 0: open model at this many transfers per second
  std::size_t batch = 1;         // > 1: each request is POST /transfers/batch with this many transfers
  distribution pick;
  std::int64_t amount_min = 1;
  // Half the deposit: once balances spread, about a fifth of the transfers ask
  // for more than their account holds and are refused.
  std::int64_t amount_max = 5'000;
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds audit_interval{1'000};  // 0: audit only before and after
  std::uint64_t seed = 0;                           // 0: random

  // Faults (see chaos.hpp): kill-backends, restart-db, stop-db, kill-bankd, failover,
  // drop-clients
  std::vector<std::string> chaos;
  std::chrono::milliseconds chaos_interval{3'000};  // between faults
  std::chrono::milliseconds chaos_outage{3'000};    // stop-db: how long it stays down
  std::size_t chaos_count = 0;                      // > 0: inject at most this many faults
  std::string pg_ctl;  // shell command taking start | stop | restart (restart-db, stop-db)
  // failover: a shell command taking kill-primary | rejoin | wait-healthy S |
  // stall-replication for a pg_auto_failover formation (scripts/ha/formation.sh
  // --dir DIR), and how long to stop the primary's WAL senders before the kill.
  std::string ha_ctl;
  std::chrono::milliseconds replication_stall{0};
  // Non-empty: bank-loadtest starts bankd with this shell command, serving
  // urls.front(), and stops it at the end; kill-bankd needs it.
  std::string bankd_cmd;

  // Output
  progress_mode progress = progress_mode::automatic;
  std::string json_file;
  std::string plot_file;
  std::string accounts_file;  // CSV account_id,user_id,currency,api_key for other tools
  bool setup_only = false;    // create and fund the accounts, write accounts_file, stop

  std::string help_text;  // set when --help was asked for; nothing else is then
};

// Throws std::invalid_argument with a message meant for the user.
options parse_options(int argc, const char* const argv[]);
distribution parse_distribution(std::string_view text);
endpoint parse_url(std::string_view text);
std::chrono::milliseconds parse_duration(std::string_view text);  // "10s", "500ms", "2m", "10"
void validate(const options& o);

}  // namespace bankd::loadtest
