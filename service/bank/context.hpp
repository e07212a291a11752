#pragma once
// What the bank endpoints of one io_context thread share, and the wrapper that
// authenticates every call once, before its handler runs.

#include "bank/api_error.hpp"
#include "bank/auth.hpp"
#include "bank/transfers.hpp"
#include "db/pool.hpp"
#include "http/endpoint.hpp"
#include "metrics/registry.hpp"

#include <nlohmann/json_fwd.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>

namespace bankd::bank {

struct settings {
  std::string operator_key;
  db::retry_policy retries;
};

// One per io_context thread; not thread-safe.
class context {
public:
  context(db::connection_pool& pool, metrics::registry& stats, const settings& cfg)
      : pool_(pool), auth_(pool, cfg.operator_key), transfers_(pool, cfg.retries, stats) {}

  db::connection_pool& pool() noexcept { return pool_; }
  authenticator& auth() noexcept { return auth_; }
  transfer_service& transfers() noexcept { return transfers_; }

  // One pipeline on a pooled connection, database errors mapped to api_error.
  boost::asio::awaitable<outcome<db::batch_result>> query(const db::batch& b, db::tx_frame frame,
                                                          std::string_view operation);
  // The same, keeping the database error for callers that expect some
  // (a unique violation that means "email taken").
  boost::asio::awaitable<db::result<db::batch_result>> query_raw(const db::batch& b, db::tx_frame frame);

private:
  db::connection_pool& pool_;
  authenticator auth_;
  transfer_service transfers_;
};

// One authenticated request.
struct call {
  http::request_context& http;
  identity caller;
  context& bank;
};

using handler = std::function<boost::asio::awaitable<outcome<http::response>>(call&)>;

enum class access { any_key, operator_only };

// Authenticates (401), checks the access level (403), runs the handler and
// turns an api_error into the JSON error response.
http::endpoint secured(context& bank, access level, handler fn);

// The {id} path parameter as a positive integer; 404 when it is not one.
outcome<std::int64_t> path_id(const call& c, std::string_view name = "id");

// 201 with `body` and `Location: location` (the new resource's path).
http::response json_created(const nlohmann::json& body, const std::string& location);

void add_user_routes(http::router<http::endpoint>& routes, context& bank);
void add_account_routes(http::router<http::endpoint>& routes, context& bank);
void add_transfer_routes(http::router<http::endpoint>& routes, context& bank);
void add_audit_routes(http::router<http::endpoint>& routes, context& bank);

inline void add_routes(http::router<http::endpoint>& routes, context& bank) {
  add_user_routes(routes, bank);
  add_account_routes(routes, bank);
  add_transfer_routes(routes, bank);
  add_audit_routes(routes, bank);
}

}  // namespace bankd::bank
