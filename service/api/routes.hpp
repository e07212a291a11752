#pragma once
// The bank's HTTP endpoints, registered by resource. Each handler parses and
// validates its input, calls one domain operation and renders the result.

#include "bank/services.hpp"
#include "http/endpoint.hpp"

namespace bankd::api {

using route_table = http::router<http::endpoint>;

void add_user_routes(route_table& routes, bank::services& bank);
void add_key_routes(route_table& routes, bank::services& bank);
void add_account_routes(route_table& routes, bank::services& bank);
void add_transfer_routes(route_table& routes, bank::services& bank);
void add_audit_routes(route_table& routes, bank::services& bank);
void add_batch_routes(route_table& routes, bank::services& bank);
void add_ledger_routes(route_table& routes, bank::services& bank);
void add_event_routes(route_table& routes, bank::services& bank);
void add_webhook_routes(route_table& routes, bank::services& bank);

inline void add_bank_routes(route_table& routes, bank::services& bank) {
  add_user_routes(routes, bank);
  add_key_routes(routes, bank);
  add_account_routes(routes, bank);
  add_transfer_routes(routes, bank);
  add_audit_routes(routes, bank);
  add_batch_routes(routes, bank);
  add_ledger_routes(routes, bank);
  add_event_routes(routes, bank);
  add_webhook_routes(routes, bank);
}

}  // namespace bankd::api
