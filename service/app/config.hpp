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
  std::size_t max_body_bytes = std::size_t{64} * 1024;    // larger bodies get 413
  std::size_t max_batch_body_bytes = std::size_t{1} << 20;  // the same for POST /transfers/batch
  std::size_t max_header_bytes = std::size_t{8} * 1024;   // larger headers get 431
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds shutdown_timeout{10'000};

  // Operations
  std::string operator_key;  // bearer key with operator rights; empty: no operator
  std::string migrations_dir;  // empty: next to the binary
  std::string api_docs_dir;    // openapi.yaml, openapi.json, docs.html; empty: next to the binary
  bool migrate_on_start = false;
  bool migrate_status = false;  // `bankd migrate --status`
  log::level log_level = log::level::info;

  std::string help_text;  // filled for command::help
};

// Parses argv (first non-option word is the command) and the environment.
// Throws std::invalid_argument with a message for the user on bad input.
config parse_config(int argc, const char* const argv[]);

}  // namespace bankd::app
