#include "support/bankd_server.hpp"

#include <atomic>
#include <stdexcept>

namespace bankd::test {

app::config bankd_server::test_config(const std::string& conninfo, unsigned threads, std::size_t pool_size) {
  app::config cfg;
  cfg.database_url = serve_conninfo_for(conninfo);  // as in production: not the owner
  cfg.listen_address = "127.0.0.1";
  cfg.port = 0;  // any free port
  cfg.threads = threads;
  cfg.pool_size = cfg.pool_max = pool_size;
  cfg.operator_keys = {operator_key};
  cfg.shutdown_timeout = std::chrono::seconds(5);
  // The matrix tests present many bad keys from 127.0.0.1 on purpose; the
  // rate limit has tests of its own with the defaults.
  cfg.auth_failure_burst = cfg.auth_failure_rate = 100'000;
  return cfg;
}

bankd_server::bankd_server(const std::string& conninfo, unsigned threads, std::size_t pool_size)
    : bankd_server(test_config(conninfo, threads, pool_size)) {}

bankd_server::bankd_server(app::config cfg) {
  service_ = std::make_unique<app::service>(std::move(cfg));
  service_->start();
  port_ = service_->port();
}

bankd_server::~bankd_server() { service_->shutdown(); }

funded_account create_funded_account(http_client& op, const std::string& currency, std::int64_t deposit) {
  static std::atomic<int> counter{0};
  const auto n = std::to_string(counter++) + "-" + std::to_string(std::rand());
  auto user = op.post("/users", {{"name", "user " + n}, {"email", "user" + n + "@example.com"}});
  if (user.status != 201) throw std::runtime_error("create user failed: " + user.body);
  const auto user_id = user.json()["id"].get<std::int64_t>();
  auto account = op.post("/accounts", {{"currency", currency}, {"user_id", user_id}});
  if (account.status != 201) throw std::runtime_error("create account failed: " + account.body);
  const auto account_id = account.json()["id"].get<std::int64_t>();
  if (deposit > 0) {
    auto dep = op.post("/accounts/" + std::to_string(account_id) + "/deposits", {{"amount", deposit}},
                       {{"Idempotency-Key", "fund-" + n}});
    if (dep.status != 201) throw std::runtime_error("deposit failed: " + dep.body);
  }
  return {user_id, user.json()["api_key"].get<std::string>(), account_id};
}

}  // namespace bankd::test
