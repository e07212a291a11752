// An account's past: GET /accounts/{id}/transfers (the history, with
// filters), /accounts/{id}/balance?at= and /accounts/{id}/statement (JSON,
// or CSV with Accept: text/csv).

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/query_params.hpp"
#include "api/routes.hpp"

#include <boost/beast/core/string.hpp>

#include <map>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::int64_t max_history_page = 200;
constexpr std::int64_t max_statement_page = 1000;
constexpr std::size_t max_filter_chars = 140;

using params = query_map;

outcome<std::optional<std::int64_t>> id_param(const params& p, const std::string& name) {
  const auto it = p.find(name);
  if (it == p.end()) return std::optional<std::int64_t>{};
  if (auto id = parse_path_id(it->second)) return std::optional<std::int64_t>{*id};
  return invalid("'" + name + "' must be a transfer id");
}

outcome<std::optional<std::string>> time_param(const params& p, const std::string& name) {
  const auto it = p.find(name);
  if (it == p.end()) return std::optional<std::string>{};
  if (!is_rfc3339(it->second))
    return invalid("'" + name + "' must be an RFC 3339 time such as 2026-12-01T09:37:00Z");
  return std::optional<std::string>{it->second};
}

outcome<std::optional<std::string>> one_of(const params& p, const std::string& name,
                                           std::initializer_list<std::string_view> values) {
  const auto it = p.find(name);
  if (it == p.end()) return std::optional<std::string>{};
  if (std::find(values.begin(), values.end(), it->second) == values.end()) {
    std::string list;
    for (const auto v : values) list += (list.empty() ? "" : ", ") + std::string(v);
    return invalid("'" + name + "' must be one of " + list);
  }
  return std::optional<std::string>{it->second};
}

outcome<std::optional<std::string>> text_param(const params& p, const std::string& name) {
  const auto it = p.find(name);
  if (it == p.end()) return std::optional<std::string>{};
  const auto& v = it->second;
  if (v.empty() || v.find('\0') != std::string::npos || utf8_length(v) > max_filter_chars)
    return invalid("'" + name + "' must be 1.." + std::to_string(max_filter_chars) + " characters");
  return std::optional<std::string>{v};
}

outcome<bank::history_query> read_history_query(std::string_view query) {
  auto p = query_params(query, {"limit", "before", "from", "to", "direction", "status", "reference",
                                "metadata_key", "metadata_value"});
  if (!p) return p.error();
  bank::history_query q;
  auto limit = limit_param(*p, q.limit, max_history_page);
  if (!limit) return limit.error();
  q.limit = *limit;
  auto before = id_param(*p, "before");
  if (!before) return before.error();
  q.before = *before;
  for (auto [name, slot] : {std::pair{"from", &q.from}, std::pair{"to", &q.to}}) {
    auto t = time_param(*p, name);
    if (!t) return t.error();
    *slot = std::move(*t);
  }
  auto direction = one_of(*p, "direction", {"debit", "credit"});
  if (!direction) return direction.error();
  q.direction = std::move(*direction);
  auto status = one_of(*p, "status", {"pending", "posted", "voided", "expired"});
  if (!status) return status.error();
  q.status = std::move(*status);
  for (auto [name, slot] : {std::pair{"reference", &q.reference}, std::pair{"metadata_key", &q.metadata_key},
                            std::pair{"metadata_value", &q.metadata_value}}) {
    auto t = text_param(*p, name);
    if (!t) return t.error();
    *slot = std::move(*t);
  }
  if (q.metadata_key.has_value() != q.metadata_value.has_value())
    return invalid("'metadata_key' and 'metadata_value' go together");
  return q;
}

net::awaitable<outcome<http::response>> list_history(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto q = read_history_query(x.http.query);
  if (!q) co_return q.error();
  co_return respond_hiding(co_await x.bank.history.history(x.call, *id, *q), *id, [](const bank::history_page& page) {
    json items = json::array();
    for (const auto& t : page.entries) items.push_back(history_json(t));
    return json_ok({{"transfers", std::move(items)},
                    {"next_before", page.next_before ? json(*page.next_before) : json(nullptr)}});
  });
}

net::awaitable<outcome<http::response>> get_balance(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto p = query_params(x.http.query, {"at"});
  if (!p) co_return p.error();
  auto at = time_param(*p, "at");
  if (!at) co_return at.error();
  co_return respond_hiding(co_await x.bank.history.balance_at(x.call, *id, *at), *id, [](const bank::balance_point& b) {
    return json_ok({{"account_id", b.account_id},
                    {"currency", b.currency},
                    {"at", b.at},
                    {"balance", b.balance},
                    {"held", b.held},
                    {"available", b.balance - b.held},
                    {"last_transfer_id", b.last_transfer_id ? json(*b.last_transfer_id) : json(nullptr)}});
  });
}

// Whether the client asked for CSV: Accept names text/csv (any parameters).
bool wants_csv(const http::request& req) {
  const std::string_view accept = req[http::beast_http::field::accept];
  std::size_t start = 0;
  while (start <= accept.size()) {
    const auto end = std::min(accept.find(',', start), accept.size());
    auto type = accept.substr(start, end - start);
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (boost::beast::iequals(type, "text/csv")) return true;
    start = end + 1;
  }
  return false;
}

std::string next_page_link(std::int64_t account, const bank::statement& s, std::int64_t limit) {
  std::string link = "</accounts/" + std::to_string(account) + "/statement?";
  if (s.from) link += "from=" + *s.from + "&";  // RFC 3339 text needs no escaping but '+'
  link += "to=" + s.to + "&after=" + std::to_string(*s.next_after) + "&limit=" + std::to_string(limit) +
          ">; rel=\"next\"";
  std::string escaped;
  for (const char c : link) escaped += c == '+' ? std::string("%2B") : std::string(1, c);
  return escaped;
}

net::awaitable<outcome<http::response>> get_statement(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto p = query_params(x.http.query, {"from", "to", "after", "limit"});
  if (!p) co_return p.error();
  bank::statement_query q;
  auto from = time_param(*p, "from");
  if (!from) co_return from.error();
  auto to = time_param(*p, "to");
  if (!to) co_return to.error();
  auto after = id_param(*p, "after");
  if (!after) co_return after.error();
  auto limit = limit_param(*p, q.limit, max_statement_page);
  if (!limit) co_return limit.error();
  q.from = std::move(*from);
  q.to = std::move(*to);
  q.after = *after;
  q.limit = *limit;
  auto done = co_await x.bank.history.statement(x.call, *id, q);
  if (!done) co_return hiding_others(done.error(), "account " + std::to_string(*id) + " does not exist");
  auto res = wants_csv(x.http.req) ? csv_response(statement_csv(*done)) : json_ok(statement_json(*done));
  if (done->next_after) res.set(http::beast_http::field::link, next_page_link(*id, *done, q.limit));
  co_return res;
}

}  // namespace

void add_ledger_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::get, "/accounts/{id}/transfers", secured(bank, access::any_key, list_history));
  routes.add(verb::get, "/accounts/{id}/balance", secured(bank, access::any_key, get_balance));
  routes.add(verb::get, "/accounts/{id}/statement", secured(bank, access::any_key, get_statement));
}

}  // namespace bankd::api
