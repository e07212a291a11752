// /accounts: open, read, close (only when empty), a user's accounts, freeze
// and unfreeze (operator). The history, balance and statement are
// ledger_routes.cpp's. Another user's account answers exactly as one that
// does not exist (api::hiding_others).

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/query_params.hpp"
#include "api/routes.hpp"

#include <limits>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::int64_t max_account_page = 1000;

std::string missing_account(std::int64_t id) { return "account " + std::to_string(id) + " does not exist"; }


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
  auto key = optional_idempotency_key(x.http.req);
  if (!key) co_return key.error();
  const auto* currencies = x.bank.currencies;
  co_return respond(co_await x.bank.accounts.open(x.call, owner, **currency, *metadata, std::move(*key)),
                    [currencies](const bank::created<bank::account>& a) {
                      auto res = json_created(account_json(a.value, currencies), "/accounts/" + std::to_string(a.value.id));
                      if (a.replayed) res.set("Idempotent-Replayed", "true");
                      return res;
                    });
}

net::awaitable<outcome<http::response>> get_account(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  const auto* currencies = x.bank.currencies;
  co_return respond_hiding(co_await x.bank.accounts.get(x.call, *id), *id,
                           [currencies](const bank::account& a) { return json_ok(account_json(a, currencies)); });
}

net::awaitable<outcome<http::response>> remove_account(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto done = co_await x.bank.accounts.close(x.call, *id);
  if (!done) co_return hiding_others(done.error(), missing_account(*id));
  co_return no_content();
}

net::awaitable<outcome<http::response>> set_frozen(exchange& x, bool frozen) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  const auto* currencies = x.bank.currencies;
  co_return respond(co_await x.bank.accounts.set_frozen(x.call, *id, frozen),
                    [currencies](const bank::account& a) { return json_ok(account_json(a, currencies)); });
}

net::awaitable<outcome<http::response>> list_user_accounts(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto p = query_params(x.http.query, {"limit", "after"});
  if (!p) co_return p.error();
  bank::account_query q;
  auto limit = limit_param(*p, q.limit, max_account_page);
  if (!limit) co_return limit.error();
  auto after = integer_param(*p, "after", q.after, 0, std::numeric_limits<std::int64_t>::max());
  if (!after) co_return after.error();
  q.limit = *limit;
  q.after = *after;
  const auto* currencies = x.bank.currencies;
  co_return respond(co_await x.bank.accounts.of_user(x.call, *id, q), [currencies](const bank::account_page& list) {
    json accounts = json::array();
    for (const auto& a : list.accounts) accounts.push_back(account_json(a, currencies));
    return json_ok({{"accounts", std::move(accounts)},
                    {"next_after", list.next_after ? json(*list.next_after) : json(nullptr)}});
  });
}


}  // namespace

void add_account_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/accounts", secured(bank, access::any_key, open_account));
  routes.add(verb::get, "/accounts/{id}", secured(bank, access::any_key, get_account));
  routes.add(verb::delete_, "/accounts/{id}", secured(bank, access::any_key, remove_account));
  routes.add(verb::get, "/users/{id}/accounts", secured(bank, access::any_key, list_user_accounts));
  routes.add(verb::post, "/accounts/{id}/freeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, true); }));
  routes.add(verb::post, "/accounts/{id}/unfreeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, false); }));
}

}  // namespace bankd::api
