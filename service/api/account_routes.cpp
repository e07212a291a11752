// /accounts: open, read, close (only when empty), a user's accounts, history.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::int64_t max_page = 200;

net::awaitable<outcome<http::response>> open_account(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"currency", "user_id"}); !ok) co_return ok.error();
  auto currency = optional_currency(*body, "currency");
  if (!currency) co_return currency.error();
  if (!*currency) co_return invalid("'currency' is required");
  auto user_id = optional_id(*body, "user_id");
  if (!user_id) co_return user_id.error();
  const auto& caller = x.call.caller;
  if (caller.is_operator && !*user_id) co_return invalid("'user_id' is required with the operator key");
  const auto owner = user_id->value_or(caller.user_id);
  co_return respond(co_await x.bank.accounts.open(x.call, owner, **currency),
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

outcome<bank::history_query> parse_page(std::string_view query) {
  bank::history_query q;
  if (query.empty()) return q;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query measures its input
  // with strlen, and the query is a slice of the request's header buffer.
  const std::string text(query);
  if (!boost::urls::parse_query(text)) return invalid("malformed query string");
  for (const auto& param : boost::urls::params_view(text)) {  // validated: does not throw
    const auto value = parse_path_id(param.value);
    if (param.key == "limit") {
      if (!value || *value > max_page) return invalid("'limit' must be 1.." + std::to_string(max_page));
      q.limit = *value;
    } else if (param.key == "before") {
      if (!value) return invalid("'before' must be a transfer id");
      q.before = *value;
    } else {
      return invalid("unknown query parameter '" + std::string(param.key) + "'");
    }
  }
  return q;
}

net::awaitable<outcome<http::response>> list_history(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto q = parse_page(x.http.query);
  if (!q) co_return q.error();
  co_return respond(co_await x.bank.accounts.history(x.call, *id, *q), [&](const bank::history_page& page) {
    json items = json::array();
    for (const auto& t : page.entries) items.push_back(history_json(t, *id));
    return json_ok({{"transfers", std::move(items)},
                    {"next_before", page.next_before ? json(*page.next_before) : json(nullptr)}});
  });
}

}  // namespace

void add_account_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/accounts", secured(bank, access::any_key, open_account));
  routes.add(verb::get, "/accounts/{id}", secured(bank, access::any_key, get_account));
  routes.add(verb::delete_, "/accounts/{id}", secured(bank, access::any_key, remove_account));
  routes.add(verb::get, "/users/{id}/accounts", secured(bank, access::any_key, list_user_accounts));
  routes.add(verb::get, "/accounts/{id}/transfers", secured(bank, access::any_key, list_history));
}

}  // namespace bankd::api
