// /accounts: open, read, close (only when empty), a user's accounts. The
// history, balance and statement are ledger_routes.cpp's.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

net::awaitable<outcome<http::response>> open_account(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"currency", "user_id", "metadata"}); !ok) co_return ok.error();
  auto currency = optional_currency(*body, "currency");
  if (!currency) co_return currency.error();
  if (!*currency) co_return invalid("'currency' is required");
  auto user_id = optional_id(*body, "user_id");
  if (!user_id) co_return user_id.error();
  auto metadata = optional_metadata(*body, "metadata");
  if (!metadata) co_return metadata.error();
  const auto& caller = x.call.caller;
  if (caller.is_operator && !*user_id) co_return invalid("'user_id' is required with the operator key");
  const auto owner = user_id->value_or(caller.user_id);
  co_return respond(co_await x.bank.accounts.open(x.call, owner, **currency, *metadata),
                    [](const bank::account& a) { return json_created(account_json(a), "/accounts/" + std::to_string(a.id)); });
}

net::awaitable<outcome<http::response>> get_account(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.accounts.get(x.call, *id),
                    [](const bank::account& a) { return json_ok(account_json(a)); });
}

net::awaitable<outcome<http::response>> list_user_accounts(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.accounts.of_user(x.call, *id), [](const std::vector<bank::account>& list) {
    json accounts = json::array();
    for (const auto& a : list) accounts.push_back(account_json(a));
    return json_ok({{"accounts", std::move(accounts)}});
  });
}

net::awaitable<outcome<http::response>> remove_account(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto done = co_await x.bank.accounts.close(x.call, *id);
  if (!done) co_return from_bank(done.error());
  co_return no_content();
}

}  // namespace

void add_account_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/accounts", secured(bank, access::any_key, open_account));
  routes.add(verb::get, "/accounts/{id}", secured(bank, access::any_key, get_account));
  routes.add(verb::delete_, "/accounts/{id}", secured(bank, access::any_key, remove_account));
  routes.add(verb::get, "/users/{id}/accounts", secured(bank, access::any_key, list_user_accounts));
}

}  // namespace bankd::api
