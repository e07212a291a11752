// POST /audit/balances (operator): the money supply in one snapshot. The load
// tester checks it while transfers run.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/routes.hpp"

#include <charconv>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

outcome<std::vector<std::int64_t>> account_ids(const json& body) {
  const auto it = body.find("account_ids");
  if (it == body.end() || !it->is_array()) return invalid("'account_ids' must be an array of account ids");
  if (it->size() > bank::max_audited_accounts)
    return invalid("at most " + std::to_string(bank::max_audited_accounts) + " account ids per audit");
  std::vector<std::int64_t> ids;
  ids.reserve(it->size());
  for (const auto& value : *it) {
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
      return invalid("'account_ids' must hold positive integer ids");
    ids.push_back(value.get<std::int64_t>());
  }
  return ids;
}

// A numeric sum as a JSON number when one fits, as its exact text when not:
// shown, never rounded.
json total_json(std::string_view numeric) {
  const auto parses_whole = [&](auto& value) {
    const auto [ptr, ec] = std::from_chars(numeric.data(), numeric.data() + numeric.size(), value);
    return ec == std::errc{} && ptr == numeric.data() + numeric.size();
  };
  std::int64_t signed_value = 0;
  if (parses_whole(signed_value)) return signed_value;
  std::uint64_t unsigned_value = 0;
  if (parses_whole(unsigned_value)) return unsigned_value;
  return std::string(numeric);
}

json snapshot_json(const bank::audit_snapshot& s) {
  json accounts = json::array();
  for (const auto& a : s.accounts)
    accounts.push_back({{"id", a.id}, {"currency", a.currency}, {"balance", a.balance}, {"kind", a.kind}});
  json totals = json::array();
  for (const auto& t : s.totals)
    totals.push_back({{"currency", t.currency},
                      {"customer_total", total_json(t.customer_total)},
                      {"funding_balance", t.funding_balance},
                      {"sum", total_json(t.sum)},
                      {"customer_accounts", t.customer_accounts}});
  return {{"accounts", std::move(accounts)}, {"totals", std::move(totals)}};
}

net::awaitable<outcome<http::response>> audit_balances(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"account_ids"}); !ok) co_return ok.error();
  auto ids = account_ids(*body);
  if (!ids) co_return ids.error();
  co_return respond(co_await x.bank.audit.balances(x.call, *ids),
                    [](const bank::audit_snapshot& s) { return json_ok(snapshot_json(s)); });
}

}  // namespace

void add_audit_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/audit/balances", secured(bank, access::operator_only, audit_balances));
}

}  // namespace bankd::api
