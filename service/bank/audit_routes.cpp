// POST /audit/balances (operator): balances of many accounts and the totals of
// every currency, all read in one REPEATABLE READ snapshot, so concurrent
// transfers can never make the sums look wrong. The load tester checks the
// money supply with it while transfers run.

#include "bank/context.hpp"
#include "bank/json_input.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace bankd::bank {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr db::statement audited_balances{"audit.balances", R"sql(
SELECT id, currency, balance, kind FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id
)sql"};

constexpr db::statement currency_totals{"audit.totals", R"sql(
SELECT currency,
       COALESCE(sum(balance) FILTER (WHERE kind = 'customer'), 0),
       COALESCE(sum(balance) FILTER (WHERE kind = 'funding'), 0),
       sum(balance),
       count(*) FILTER (WHERE kind = 'customer')
  FROM accounts GROUP BY currency ORDER BY currency
)sql"};

constexpr std::size_t max_accounts = 10'000;

// {1,2,3}: a PostgreSQL array literal, sent as one parameter.
outcome<std::string> id_array(const json& body) {
  const auto it = body.find("account_ids");
  if (it == body.end() || !it->is_array())
    return invalid("'account_ids' must be an array of account ids");
  if (it->size() > max_accounts)
    return invalid("at most " + std::to_string(max_accounts) + " account ids per audit");
  std::string array = "{";
  for (const auto& value : *it) {
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
      return invalid("'account_ids' must hold positive integer ids");
    if (array.size() > 1) array.push_back(',');
    array += std::to_string(value.get<std::int64_t>());
  }
  return array + "}";
}

// sum(bigint) is numeric: the customers of a currency together may hold 2^63
// (the funding account at its bigint minimum), one more than an int64 holds.
json total_json(std::string_view numeric) {
  const auto parses_whole = [&](auto& value) {
    const auto [ptr, ec] = std::from_chars(numeric.data(), numeric.data() + numeric.size(), value);
    return ec == std::errc{} && ptr == numeric.data() + numeric.size();
  };
  std::int64_t signed_value = 0;
  if (parses_whole(signed_value)) return signed_value;
  std::uint64_t unsigned_value = 0;
  if (parses_whole(unsigned_value)) return unsigned_value;
  return std::string(numeric);  // beyond any double entry: shown, never rounded
}

json totals_json(const db::query_result& r) {
  json totals = json::array();
  for (int row = 0; row < r.rows(); ++row)
    totals.push_back({{"currency", r.text(row, 0)},
                      {"customer_total", total_json(r.text(row, 1))},
                      {"funding_balance", r.int64(row, 2)},
                      {"sum", total_json(r.text(row, 3))},
                      {"customer_accounts", r.int64(row, 4)}});
  return totals;
}

net::awaitable<outcome<http::response>> audit_balances(call& c) {
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"account_ids"}); !ok) co_return ok.error();
  auto ids = id_array(*body);
  if (!ids) co_return ids.error();

  db::batch b;
  b.add(audited_balances, db::params{}.add(*ids));
  b.add(currency_totals);
  auto done = co_await c.bank.query(b, {db::isolation::repeatable_read_read_only, true}, "audit");
  if (!done) co_return done.error();
  const auto& rows = done->results[0];
  json accounts = json::array();
  for (int row = 0; row < rows.rows(); ++row)
    accounts.push_back({{"id", rows.int64(row, 0)},
                        {"currency", rows.text(row, 1)},
                        {"balance", rows.int64(row, 2)},
                        {"kind", rows.text(row, 3)}});
  co_return http::json_response(http::status::ok,
                                {{"accounts", std::move(accounts)},
                                 {"totals", totals_json(done->results[1])}});
}

}  // namespace

void add_audit_routes(http::router<http::endpoint>& routes, context& bank) {
  routes.add(verb::post, "/audit/balances", secured(bank, access::operator_only, audit_balances));
}

}  // namespace bankd::bank
