#include "app/config.hpp"

#include "bank/currencies.hpp"
#include "util/host_allowlist.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace bankd::app {
namespace po = boost::program_options;

namespace {

// Flag name -> environment variable. The names the twelve-factor world expects
// have no prefix; bankd's own knobs start with BANKD_.
const std::map<std::string, std::string>& env_names() {
  static const std::map<std::string, std::string> names{
      {"database-url", "DATABASE_URL"},
      {"port", "PORT"},
      {"pool-size", "POOL_SIZE"},
      {"threads", "THREADS"},
      {"max-retries", "MAX_RETRIES"},
      {"max-batch", "BANKD_MAX_BATCH"},
      {"flush-after-unlock", "BANKD_FLUSH_AFTER_UNLOCK"},
      {"log-level", "LOG_LEVEL"},
      {"listen-address", "BANKD_LISTEN_ADDRESS"},
      {"pool-max", "BANKD_POOL_MAX"},
      {"connect-timeout-ms", "BANKD_CONNECT_TIMEOUT_MS"},
      {"acquire-timeout-ms", "BANKD_ACQUIRE_TIMEOUT_MS"},
      {"query-timeout-ms", "BANKD_QUERY_TIMEOUT_MS"},
      {"request-timeout-ms", "BANKD_REQUEST_TIMEOUT_MS"},
      {"statement-timeout-ms", "BANKD_STATEMENT_TIMEOUT_MS"},
      {"lock-timeout-ms", "BANKD_LOCK_TIMEOUT_MS"},
      {"idle-in-transaction-timeout-ms", "BANKD_IDLE_IN_TRANSACTION_TIMEOUT_MS"},
      {"max-connections", "BANKD_MAX_CONNECTIONS"},
      {"max-body-bytes", "BANKD_MAX_BODY_BYTES"},
      {"max-batch-body-bytes", "BANKD_MAX_BATCH_BODY_BYTES"},
      {"max-header-bytes", "BANKD_MAX_HEADER_BYTES"},
      {"idle-timeout-ms", "BANKD_IDLE_TIMEOUT_MS"},
      {"read-timeout-ms", "BANKD_READ_TIMEOUT_MS"},
      {"shutdown-timeout-ms", "BANKD_SHUTDOWN_TIMEOUT_MS"},
      {"operator-key", "BANKD_OPERATOR_KEY"},
      {"operator-key-file", "BANKD_OPERATOR_KEY_FILE"},
      {"auth-failure-burst", "BANKD_AUTH_FAILURE_BURST"},
      {"auth-failure-rate", "BANKD_AUTH_FAILURE_RATE"},
      {"max-connections-per-client", "BANKD_MAX_CONNECTIONS_PER_CLIENT"},
      {"max-accounts-per-user", "BANKD_MAX_ACCOUNTS_PER_USER"},
      {"currencies", "BANKD_CURRENCIES"},
      {"webhook-allow", "BANKD_WEBHOOK_ALLOW"},
      {"webhook-timeout-ms", "BANKD_WEBHOOK_TIMEOUT_MS"},
      {"webhook-backoff-ms", "BANKD_WEBHOOK_BACKOFF_MS"},
      {"webhook-retry-for-ms", "BANKD_WEBHOOK_RETRY_FOR_MS"},
      {"migrations-dir", "BANKD_MIGRATIONS_DIR"},
      {"api-docs-dir", "BANKD_API_DOCS_DIR"},
      {"migrate", "BANKD_MIGRATE"},
  };
  return names;
}

std::string described(const std::string& flag, std::string text) {
  const auto it = env_names().find(flag);
  if (it != env_names().end()) text += " [env " + it->second + "]";
  return text;
}

po::options_description make_options(config& c) {
  po::options_description desc("Options (flags override environment variables)");
  auto add = [&](const char* flag, const po::value_semantic* sem, const char* text) {
    desc.add_options()(flag, sem, described(flag, text).c_str());
  };
  add("database-url", po::value(&c.database_url), "PostgreSQL conninfo or URL (default: libpq's PG* variables)");
  add("port", po::value(&c.port)->default_value(c.port), "HTTP port");
  add("listen-address", po::value(&c.listen_address)->default_value(c.listen_address), "HTTP listen address");
  add("threads", po::value(&c.threads)->default_value(c.threads), "event-loop threads, each with its own pool (0: one per core)");
  add("pool-size", po::value(&c.pool_size)->default_value(c.pool_size), "database connections opened at start-up, all threads together");
  add("pool-max", po::value(&c.pool_max)->default_value(c.pool_max), "most connections when busy (0: pool-size)");
  add("max-retries", po::value(&c.max_retries)->default_value(c.max_retries), "attempts of a transaction on serialization failure or deadlock");
  add("max-batch", po::value(&c.max_batch)->default_value(c.max_batch), "most transfers the engine applies in one transaction");
  add("flush-after-unlock", po::value(&c.flush_after_unlock)->default_value(c.flush_after_unlock), "engine: commit under the lock without waiting for the disk, then wait for it after unlocking (answers still wait)");
  add("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error");
  add("connect-timeout-ms", po::value<long>()->default_value(c.connect_timeout.count()), "deadline to open a database connection");
  add("acquire-timeout-ms", po::value<long>()->default_value(c.acquire_timeout.count()), "deadline to borrow a pooled connection");
  add("query-timeout-ms", po::value<long>()->default_value(c.query_timeout.count()), "deadline of one database round trip");
  add("statement-timeout-ms", po::value<long>()->default_value(c.statement_timeout.count()), "server-side statement_timeout of bankd's sessions, below --query-timeout-ms (0: the server's)");
  add("lock-timeout-ms", po::value<long>()->default_value(c.lock_timeout.count()), "server-side lock_timeout, below --query-timeout-ms (0: the server's)");
  add("idle-in-transaction-timeout-ms", po::value<long>()->default_value(c.idle_in_transaction_timeout.count()), "server-side idle_in_transaction_session_timeout (0: the server's)");
  add("request-timeout-ms", po::value<long>()->default_value(c.request_timeout.count()), "time budget of one request, all its database work included (then 503)");
  add("max-connections", po::value(&c.max_connections)->default_value(c.max_connections), "open HTTP connections before new ones get 503");
  add("max-body-bytes", po::value(&c.max_body_bytes)->default_value(c.max_body_bytes), "largest request body (then 413)");
  add("max-batch-body-bytes", po::value(&c.max_batch_body_bytes)->default_value(c.max_batch_body_bytes), "largest body of POST /transfers/batch (then 413)");
  add("max-header-bytes", po::value(&c.max_header_bytes)->default_value(c.max_header_bytes), "largest request header block (then 431)");
  add("idle-timeout-ms", po::value<long>()->default_value(c.idle_timeout.count()), "keep-alive connection idle limit");
  add("read-timeout-ms", po::value<long>()->default_value(c.read_timeout.count()), "time to receive a whole request");
  add("shutdown-timeout-ms", po::value<long>()->default_value(c.shutdown_timeout.count()), "grace period for in-flight requests on SIGTERM");
  add("operator-key", po::value(&c.operator_keys), "bearer key with operator rights, 32+ characters; twice to rotate (prefer --operator-key-file: command lines are public)");
  add("operator-key-file", po::value(&c.operator_key_file), "file with one or two operator keys, one per line");
  add("auth-failure-burst", po::value(&c.auth_failure_burst)->default_value(c.auth_failure_burst), "failed authentications one client address may make at once (then 429)");
  add("auth-failure-rate", po::value(&c.auth_failure_rate)->default_value(c.auth_failure_rate), "failed authentications per second one client address may make after the burst");
  add("max-connections-per-client", po::value(&c.max_connections_per_client)->default_value(c.max_connections_per_client), "open HTTP connections from one client address before new ones get 503 (0: no cap)");
  add("max-accounts-per-user", po::value(&c.max_accounts_per_user)->default_value(c.max_accounts_per_user), "open accounts one user may hold (then 409 limit_reached)");
  add("currencies", po::value(&c.currencies)->default_value(c.currencies), "ISO 4217 codes accounts may use, each with its minor-unit exponent: EUR:2,JPY:0");
  add("webhook-allow", po::value(&c.webhook_allow), "hosts webhook URLs may name, comma-separated: host, host:port or *.domain (empty: webhooks off)");
  add("webhook-timeout-ms", po::value<long>()->default_value(c.webhook_timeout.count()), "time one webhook delivery may take, connecting included");
  add("webhook-backoff-ms", po::value<long>()->default_value(c.webhook_backoff.count()), "delay before a failed delivery's first retry; doubles up to an hour");
  add("webhook-retry-for-ms", po::value<long>()->default_value(c.webhook_retry_for.count()), "how long an endpoint may keep failing before it is disabled");
  add("migrations-dir", po::value(&c.migrations_dir), "directory of NNN_name.sql migrations (default: installed next to bankd)");
  add("api-docs-dir", po::value(&c.api_docs_dir), "directory of openapi.yaml, openapi.json and docs.html (default: installed next to bankd)");
  add("migrate", po::value(&c.migrate_on_start)->implicit_value(true)->default_value(false), "serve: apply pending migrations before serving");
  add("status", po::bool_switch(&c.migrate_status), "migrate: list applied and pending migrations, change nothing");
  add("help,h", po::bool_switch(), "show this help");
  add("version", po::bool_switch(), "print the version");
  return desc;
}

std::chrono::milliseconds positive_ms(const po::variables_map& vm, const char* flag) {
  const long ms = vm[flag].as<long>();
  if (ms <= 0) throw std::invalid_argument(std::string("--") + flag + " must be positive");
  return std::chrono::milliseconds(ms);
}

std::chrono::milliseconds non_negative_ms(const po::variables_map& vm, const char* flag) {
  const long ms = vm[flag].as<long>();
  if (ms < 0) throw std::invalid_argument(std::string("--") + flag + " cannot be negative");
  return std::chrono::milliseconds(ms);
}

command parse_command(std::string_view word) {
  if (word == "serve") return command::serve;
  if (word == "migrate") return command::migrate;
  if (word == "healthcheck") return command::healthcheck;
  if (word == "help") return command::help;
  if (word == "version") return command::version;
  throw std::invalid_argument("unknown command '" + std::string(word) +
                              "' (expected serve, migrate, healthcheck)");
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}

// The keys of --operator-key-file: one per line, blank lines ignored.
std::vector<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("--operator-key-file: cannot read " + path);
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);)
    if (auto key = trimmed(line); !key.empty()) keys.push_back(std::move(key));
  return keys;
}

// A key that could be guessed, or that a bearer header cannot carry, is a
// configuration error: bankd refuses to start rather than serve with it.
void check_operator_keys(config& c) {
  if (!c.operator_key_file.empty())
    for (auto& key : read_key_file(c.operator_key_file)) c.operator_keys.push_back(std::move(key));
  std::sort(c.operator_keys.begin(), c.operator_keys.end());
  c.operator_keys.erase(std::unique(c.operator_keys.begin(), c.operator_keys.end()), c.operator_keys.end());
  if (c.operator_keys.size() > max_operator_keys)
    throw std::invalid_argument("at most " + std::to_string(max_operator_keys) +
                                " operator keys (the old and the new one while rotating)");
  for (const auto& key : c.operator_keys) {
    if (key.size() < min_operator_key_length)
      throw std::invalid_argument("an operator key must have at least " +
                                  std::to_string(min_operator_key_length) + " characters");
    const bool printable = std::all_of(key.begin(), key.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
    if (!printable || key.size() > 256)
      throw std::invalid_argument("an operator key must be at most 256 printable ASCII characters without spaces");
  }
}

void validate(config& c) {
  if (c.port == 0) throw std::invalid_argument("--port must be 1..65535");
  if (c.threads == 0) c.threads = std::max(1u, std::thread::hardware_concurrency());
  if (c.threads > 256) throw std::invalid_argument("--threads must be at most 256");
  if (c.pool_size == 0) throw std::invalid_argument("--pool-size must be at least 1");
  if (c.pool_max == 0) c.pool_max = c.pool_size;
  if (c.pool_max < c.pool_size) throw std::invalid_argument("--pool-max must be >= --pool-size");
  if (c.max_retries < 1 || c.max_retries > 100)
    throw std::invalid_argument("--max-retries must be 1..100");
  if (c.max_batch < 1 || c.max_batch > 10'000) throw std::invalid_argument("--max-batch must be 1..10000");
  if (c.max_connections == 0) throw std::invalid_argument("--max-connections must be at least 1");
  if (c.max_body_bytes < 1024 || c.max_body_bytes > std::size_t{64} << 20)
    throw std::invalid_argument("--max-body-bytes must be 1 KiB..64 MiB");
  if (c.max_batch_body_bytes < c.max_body_bytes || c.max_batch_body_bytes > std::size_t{64} << 20)
    throw std::invalid_argument("--max-batch-body-bytes must be --max-body-bytes..64 MiB");
  if (c.max_header_bytes < 1024 || c.max_header_bytes > std::size_t{1} << 20)
    throw std::invalid_argument("--max-header-bytes must be 1 KiB..1 MiB");
  if (c.max_accounts_per_user == 0) throw std::invalid_argument("--max-accounts-per-user must be at least 1");
  if (c.auth_failure_burst == 0) throw std::invalid_argument("--auth-failure-burst must be at least 1");
  bank::currency_list::parse(c.currencies);  // throws with the reason
  util::host_allowlist::parse(c.webhook_allow);
  if (c.cmd == command::serve) check_operator_keys(c);
}

}  // namespace

config parse_config(int argc, const char* const argv[]) {
  config c;
  int first_option = 1;
  if (argc > 1 && argv[1][0] != '-') {
    c.cmd = parse_command(argv[1]);
    first_option = 2;
  }
  auto desc = make_options(c);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - first_option + 1, argv + first_option - 1)
                  .options(desc)
                  .run(),
              vm);
    po::store(po::parse_environment(desc,
                                    [](const std::string& var) -> std::string {
                                      for (const auto& [flag, env] : env_names())
                                        if (env == var) return flag;
                                      return "";
                                    }),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(e.what());
  }
  if (vm["help"].as<bool>() || c.cmd == command::help) {
    c.cmd = command::help;
    std::ostringstream text;
    text << "Usage: bankd [serve|migrate|healthcheck] [options]\n\n"
            "  serve        run the HTTP service (default)\n"
            "  migrate      apply pending database migrations (--status: only list them)\n"
            "  healthcheck  exit 0 when the local bankd answers GET /healthz\n\n"
         << desc;
    c.help_text = text.str();
    return c;
  }
  if (vm["version"].as<bool>()) c.cmd = command::version;
  const auto level = log::parse_level(vm["log-level"].as<std::string>());
  if (!level) throw std::invalid_argument("--log-level must be debug, info, warn or error");
  c.log_level = *level;
  c.connect_timeout = positive_ms(vm, "connect-timeout-ms");
  c.acquire_timeout = positive_ms(vm, "acquire-timeout-ms");
  c.query_timeout = positive_ms(vm, "query-timeout-ms");
  c.request_timeout = positive_ms(vm, "request-timeout-ms");
  c.statement_timeout = non_negative_ms(vm, "statement-timeout-ms");
  c.lock_timeout = non_negative_ms(vm, "lock-timeout-ms");
  c.idle_in_transaction_timeout = non_negative_ms(vm, "idle-in-transaction-timeout-ms");
  for (const auto& [flag, value] : {std::pair{"--statement-timeout-ms", c.statement_timeout},
                                    std::pair{"--lock-timeout-ms", c.lock_timeout}})
    if (value >= c.query_timeout)
      throw std::invalid_argument(std::string(flag) + " must be below --query-timeout-ms, so the server gives up first");
  c.idle_timeout = positive_ms(vm, "idle-timeout-ms");
  c.read_timeout = positive_ms(vm, "read-timeout-ms");
  c.shutdown_timeout = positive_ms(vm, "shutdown-timeout-ms");
  c.webhook_timeout = positive_ms(vm, "webhook-timeout-ms");
  c.webhook_backoff = positive_ms(vm, "webhook-backoff-ms");
  c.webhook_retry_for = positive_ms(vm, "webhook-retry-for-ms");
  validate(c);
  return c;
}

}  // namespace bankd::app
