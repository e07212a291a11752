// /accounts: open, read, close (only when empty), a user's accounts, history,
// freeze and unfreeze (operator). Another user's account answers exactly as
// one that does not exist (api::hiding_others).

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
constexpr std::int64_t max_account_page = 1000;

std::string missing_account(std::int64_t id) { return "account " + std::to_string(id) + " does not exist"; }

// A domain result for the account in the path, another user's looking missing.
template <class T, class Render>
outcome<http::response> respond_hiding(bank::result<T>&& r, std::int64_t id, Render render) {
  if (!r) return hiding_others(r.error(), missing_account(id));
  return render(*r);
}

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
  auto key = optional_idempotency_key(x.http.req);
  if (!key) co_return key.error();
  const auto* currencies = x.bank.currencies;
  co_return respond(co_await x.bank.accounts.open(x.call, owner, **currency, std::move(*key)),
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

// Query parameters `limit` (1..max_limit) and one cursor, each at most once;
// anything else is 422.
struct page_params {
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> cursor;
};

outcome<page_params> parse_page(std::string_view query, std::int64_t max_limit, std::string_view cursor_name) {
  page_params p;
  if (query.empty()) return p;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query measures its input
  // with strlen, and the query is a slice of the request's header buffer.
  const std::string text(query);
  if (!boost::urls::parse_query(text)) return invalid("malformed query string");
  for (const auto& param : boost::urls::params_view(text)) {  // validated: does not throw
    const auto value = parse_path_id(param.value);
    if (param.key == "limit") {
      if (!value || *value > max_limit) return invalid("'limit' must be 1.." + std::to_string(max_limit));
      p.limit = *value;
    } else if (param.key == cursor_name) {
      if (!value) return invalid("'" + std::string(cursor_name) + "' must be an id");
      p.cursor = *value;
    } else {
      return invalid("unknown query parameter '" + std::string(param.key) + "'");
    }
  }
  return p;
}

net::awaitable<outcome<http::response>> list_user_accounts(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto page = parse_page(x.http.query, max_account_page, "after");
  if (!page) co_return page.error();
  bank::account_query q;
  q.limit = page->limit.value_or(q.limit);
  q.after = page->cursor.value_or(q.after);
  const auto* currencies = x.bank.currencies;
  co_return respond(co_await x.bank.accounts.of_user(x.call, *id, q), [currencies](const bank::account_page& list) {
    json accounts = json::array();
    for (const auto& a : list.accounts) accounts.push_back(account_json(a, currencies));
    return json_ok({{"accounts", std::move(accounts)},
                    {"next_after", list.next_after ? json(*list.next_after) : json(nullptr)}});
  });
}

net::awaitable<outcome<http::response>> list_history(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto page_in = parse_page(x.http.query, max_page, "before");
  if (!page_in) co_return page_in.error();
  bank::history_query q;
  q.limit = page_in->limit.value_or(q.limit);
  q.before = page_in->cursor.value_or(q.before);
  co_return respond_hiding(co_await x.bank.accounts.history(x.call, *id, q), *id, [&](const bank::history_page& page) {
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
  routes.add(verb::post, "/accounts/{id}/freeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, true); }));
  routes.add(verb::post, "/accounts/{id}/unfreeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, false); }));
}

}  // namespace bankd::api
