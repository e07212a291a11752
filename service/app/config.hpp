#pragma once
// bankd's configuration: every setting has a command-line flag and an
// environment variable; the flag wins. `bankd --help` lists them all.

#include "util/log.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::app {

enum class command { serve, migrate, healthcheck, help, version };

struct config {
  command cmd = command::serve;

  // Database
  std::string database_url;  // libpq conninfo or postgresql:// URL; empty: libpq defaults (PG* vars)
  std::size_t pool_size = 16;  // connections opened at start-up, across all threads
  std::size_t pool_max = 0;    // upper bound when busy; 0: same as pool_size
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds query_timeout{5000};
  // Set on every bankd session, below query_timeout, so that the server gives
  // up first and says so (a definite refusal) rather than bankd guessing; 0
  // leaves the server's setting.
  std::chrono::milliseconds statement_timeout{4000};
  std::chrono::milliseconds lock_timeout{3000};
  std::chrono::milliseconds idle_in_transaction_timeout{4000};
  // The whole request: every acquire, query and retry of it; past it, 503.
  std::chrono::milliseconds request_timeout{10'000};
  int max_retries = 10;  // attempts of one SERIALIZABLE transaction
  std::size_t max_batch = 512;  // most movements the transfer engine puts in one transaction
  bool flush_after_unlock = true;  // the engine waits for the WAL flush after releasing its lock

  // HTTP
  std::string listen_address = "0.0.0.0";
  std::uint16_t port = 8080;
  unsigned threads = 0;  // 0: one per core
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_client = 1'000;  // from one client address; 0: no cap
  std::size_t max_body_bytes = std::size_t{64} * 1024;    // larger bodies get 413
  std::size_t max_batch_body_bytes = std::size_t{1} << 20;  // the same for POST /transfers/batch
  std::size_t max_header_bytes = std::size_t{8} * 1024;   // larger headers get 431
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds shutdown_timeout{10'000};

  // Access
  // Bearer keys with operator rights, at most two (the old and the new one
  // while rotating), each at least min_operator_key_length characters; from
  // --operator-key, BANKD_OPERATOR_KEY and the lines of --operator-key-file.
  // Empty: nobody is the operator.
  std::vector<std::string> operator_keys;
  std::string operator_key_file;
  // Failed authentications from one client address: a burst, then this many
  // per second; beyond that, 429 without a database lookup.
  unsigned auth_failure_burst = 20;
  unsigned auth_failure_rate = 5;

  // The bank
  std::size_t max_accounts_per_user = 100;  // open accounts
  std::string currencies = "EUR:2,USD:2,GBP:2,CHF:2,JPY:0";  // CODE:exponent, ISO 4217

  // Webhooks (docs/webhooks.md)
  std::string webhook_allow;  // hosts endpoints may name: host, host:port, *.domain; empty: no webhooks
  std::chrono::milliseconds webhook_timeout{10'000};      // one delivery
  std::chrono::milliseconds webhook_backoff{1'000};       // the first retry's delay; doubles up to an hour
  std::chrono::milliseconds webhook_retry_for{86'400'000};  // failing this long disables an endpoint

  // Operations
  std::string migrations_dir;  // empty: next to the binary
  std::string api_docs_dir;    // openapi.yaml, openapi.json, docs.html; empty: next to the binary
  bool migrate_on_start = false;
  bool migrate_status = false;  // `bankd migrate --status`
  log::level log_level = log::level::info;

  std::string help_text;  // filled for command::help
};

inline constexpr std::size_t min_operator_key_length = 32;
inline constexpr std::size_t max_operator_keys = 2;

// Parses argv (first non-option word is the command) and the environment.
// Throws std::invalid_argument with a message for the user on bad input.
config parse_config(int argc, const char* const argv[]);

}  // namespace bankd::app
