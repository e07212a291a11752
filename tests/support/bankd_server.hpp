#pragma once
// bankd's service running inside the test process on a free port, against a
// scratch database, with a known operator key.

#include "app/config.hpp"
#include "app/service.hpp"
#include "support/http_client.hpp"
#include "support/scratch_database.hpp"

#include <memory>

namespace bankd::test {

inline constexpr const char* operator_key = "test-operator-key-0123456789-abcdefghij";

class bankd_server {
public:
  explicit bankd_server(const std::string& conninfo, unsigned threads = 2, std::size_t pool_size = 8);
  // For tests of limits and timeouts: start from test_config() and change
  // what the test is about (read_timeout, max_connections, ...).
  explicit bankd_server(app::config cfg);
  ~bankd_server();

  // What the first constructor runs: loopback, a free port, the test operator key.
  static app::config test_config(const std::string& conninfo, unsigned threads = 2,
                                 std::size_t pool_size = 8);

  std::uint16_t port() const { return port_; }
  http_client client(std::string bearer = {}) const { return http_client(port_, std::move(bearer)); }
  http_client operator_client() const { return client(operator_key); }
  app::service& service() { return *service_; }

private:
  std::unique_ptr<app::service> service_;
  std::uint16_t port_ = 0;
};

// A user with an API key and one funded account, created through the API.
struct funded_account {
  std::int64_t user_id;
  std::string api_key;
  std::int64_t account_id;
};
funded_account create_funded_account(http_client& operator_client, const std::string& currency,
                                     std::int64_t deposit);

}  // namespace bankd::test
