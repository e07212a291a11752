// /accounts: open, read, close (only when empty), a user's accounts, history.

#include "bank/context.hpp"
#include "bank/json_input.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <nlohmann/json.hpp>

#include <limits>

namespace bankd::bank {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

// The currency's funding account is created with its first customer account,
// in the same implicit transaction, so deposits always find one.
// The NOT EXISTS keeps the common case from drawing an id it would not use.
constexpr db::statement ensure_funding_account{"accounts.ensure_funding", R"sql(
INSERT INTO accounts (user_id, currency, kind)
SELECT 0, $1, 'funding'
 WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE kind = 'funding' AND currency = $1)
ON CONFLICT (currency) WHERE kind = 'funding' DO NOTHING
)sql"};

constexpr db::statement insert_account{"accounts.insert", R"sql(
INSERT INTO accounts (user_id, currency)
SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1 AND id <> 0 AND deleted_at IS NULL)
RETURNING id, user_id, currency, balance, rfc3339(created_at), rfc3339(closed_at)
)sql"};

constexpr db::statement select_account{"accounts.select", R"sql(
SELECT id, user_id, currency, balance, rfc3339(created_at), rfc3339(closed_at)
  FROM accounts WHERE id = $1 AND kind = 'customer'
)sql"};

constexpr db::statement select_user_accounts{"accounts.of_user", R"sql(
SELECT id, user_id, currency, balance, rfc3339(created_at), rfc3339(closed_at)
  FROM accounts WHERE user_id = $1 AND kind = 'customer' ORDER BY id LIMIT 1000
)sql"};

constexpr db::statement user_exists{"accounts.user_exists", R"sql(
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND id <> 0 AND deleted_at IS NULL)
)sql"};

constexpr db::statement close_account{"accounts.close", R"sql(
UPDATE accounts SET closed_at = now()
 WHERE id = $1 AND kind = 'customer' AND closed_at IS NULL AND balance = 0
RETURNING id
)sql"};

// Newest first, both directions, keyset pagination on id: each branch walks
// its own index (transfers_from/to_history_idx) and stops after $3 rows.
constexpr db::statement account_history{"accounts.history", R"sql(
SELECT t.id, t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
       rfc3339(t.created_at), c.id, u.id, u.name
  FROM ((SELECT * FROM transfers WHERE from_account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3)
        UNION ALL
        (SELECT * FROM transfers WHERE to_account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3)) t
  JOIN accounts c ON c.id = CASE WHEN t.from_account_id = $1 THEN t.to_account_id ELSE t.from_account_id END
  JOIN users u ON u.id = c.user_id
 ORDER BY t.id DESC LIMIT $3
)sql"};

constexpr db::statement account_owner{"accounts.owner", R"sql(
SELECT user_id FROM accounts WHERE id = $1
)sql"};

constexpr std::int64_t default_page = 50;
constexpr std::int64_t max_page = 200;

json account_json(const db::query_result& r, int row) {
  json a{{"id", r.int64(row, 0)},
         {"user_id", r.int64(row, 1)},
         {"currency", r.text(row, 2)},
         {"balance", r.int64(row, 3)},
         {"status", r.is_null(row, 5) ? "open" : "closed"},
         {"created_at", r.text(row, 4)}};
  if (!r.is_null(row, 5)) a["closed_at"] = r.text(row, 5);
  return a;
}

std::string account_text(std::int64_t id) { return "account " + std::to_string(id); }

net::awaitable<outcome<http::response>> open_account(call& c) {
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"currency", "user_id"}); !ok) co_return ok.error();
  auto currency = optional_currency(*body, "currency");
  if (!currency) co_return currency.error();
  if (!*currency) co_return invalid("'currency' is required");
  auto user_id = optional_id(*body, "user_id");
  if (!user_id) co_return user_id.error();
  if (c.caller.is_operator && !*user_id) co_return invalid("'user_id' is required with the operator key");
  const auto owner = user_id->value_or(c.caller.user_id);
  if (!c.caller.may_act_for(owner)) co_return forbidden("accounts can only be opened for yourself");

  db::batch b;
  b.add(ensure_funding_account, db::params{}.add(**currency));
  b.add(insert_account, db::params{}.add(owner).add(**currency));
  auto done = co_await c.bank.query(b, {}, "accounts.open");
  if (!done) co_return done.error();
  if (done->results[1].rows() == 0) co_return not_found("user " + std::to_string(owner) + " does not exist");
  auto account = account_json(done->results[1], 0);
  co_return json_created(account, "/accounts/" + std::to_string(account["id"].get<std::int64_t>()));
}

net::awaitable<outcome<http::response>> get_account(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  db::batch b;
  b.add(select_account, db::params{}.add(*id));
  auto done = co_await c.bank.query(b, {}, "accounts.get");
  if (!done) co_return done.error();
  const auto& r = done->results[0];
  if (r.rows() == 0) co_return not_found(account_text(*id) + " does not exist");
  if (!c.caller.may_act_for(r.int64(0, 1))) co_return forbidden("not your account");
  co_return http::json_response(http::status::ok, account_json(r, 0));
}

net::awaitable<outcome<http::response>> list_user_accounts(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  if (!c.caller.may_act_for(*id)) co_return forbidden("not your user");
  db::batch b;
  b.add(user_exists, db::params{}.add(*id));
  b.add(select_user_accounts, db::params{}.add(*id));
  auto done = co_await c.bank.query(b, {}, "accounts.list");
  if (!done) co_return done.error();
  if (!done->results[0].boolean(0, 0)) co_return not_found("user " + std::to_string(*id) + " does not exist");
  json accounts = json::array();
  for (int row = 0; row < done->results[1].rows(); ++row)
    accounts.push_back(account_json(done->results[1], row));
  co_return http::json_response(http::status::ok, {{"accounts", std::move(accounts)}});
}

net::awaitable<outcome<http::response>> remove_account(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  db::batch look;
  look.add(select_account, db::params{}.add(*id));
  auto found = co_await c.bank.query(look, {}, "accounts.close");
  if (!found) co_return found.error();
  const auto& r = found->results[0];
  if (r.rows() == 0) co_return not_found(account_text(*id) + " does not exist");
  if (!c.caller.may_act_for(r.int64(0, 1))) co_return forbidden("not your account");
  if (!r.is_null(0, 5)) co_return http::response{http::status::no_content, 11};  // already closed

  // SERIALIZABLE: a credit racing with the close makes one of them retry.
  auto run = co_await db::run_serializable(c.bank.pool(), {}, [&](db::transaction& tx) -> net::awaitable<db::result<bool>> {
    db::batch b;
    b.add(close_account, db::params{}.add(*id));
    auto done = co_await tx.execute_and_commit(b);
    if (!done) co_return done.error();
    co_return done->results[0].rows() == 1;
  });
  c.http.log.attempts = run.attempts;
  if (!run.value) co_return from_db_error(run.value.error(), "accounts.close");
  if (!*run.value) co_return conflict("balance_not_zero", "only an empty account can be closed");
  co_return http::response{http::status::no_content, 11};
}

struct page {
  std::int64_t limit = default_page;
  std::int64_t before = std::numeric_limits<std::int64_t>::max();
};

outcome<page> parse_page(std::string_view query) {
  page p;
  if (query.empty()) return p;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query measures its input
  // with strlen, and the query is a slice of the request's header buffer.
  const std::string text(query);
  if (!boost::urls::parse_query(text)) return invalid("malformed query string");
  for (const auto& param : boost::urls::params_view(text)) {  // validated: does not throw
    const auto value = parse_path_id(param.value);
    if (param.key == "limit") {
      if (!value || *value > max_page) return invalid("'limit' must be 1.." + std::to_string(max_page));
      p.limit = *value;
    } else if (param.key == "before") {
      if (!value) return invalid("'before' must be a transfer id");
      p.before = *value;
    } else {
      return invalid("unknown query parameter '" + std::string(param.key) + "'");
    }
  }
  return p;
}

json history_row(const db::query_result& r, int row, std::int64_t account) {
  const bool outgoing = r.int64(row, 1) == account;
  json t{{"id", r.int64(row, 0)},
         {"direction", outgoing ? "debit" : "credit"},
         {"from_account_id", r.int64(row, 1)},
         {"to_account_id", r.int64(row, 2)},
         {"currency", r.text(row, 3)},
         {"amount", r.int64(row, 4)},
         {"reference", r.is_null(row, 5) ? json(nullptr) : json(r.text(row, 5))},
         {"created_at", r.text(row, 6)},
         {"counterparty", {{"account_id", r.int64(row, 7)}, {"user_id", r.int64(row, 8)}, {"name", r.text(row, 9)}}}};
  return t;
}

net::awaitable<outcome<http::response>> list_history(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  auto p = parse_page(c.http.query);
  if (!p) co_return p.error();
  db::batch b;
  b.add(account_owner, db::params{}.add(*id));
  b.add(account_history, db::params{}.add(*id).add(p->before).add(p->limit));
  auto done = co_await c.bank.query(b, {}, "accounts.history");
  if (!done) co_return done.error();
  if (done->results[0].rows() == 0) co_return not_found(account_text(*id) + " does not exist");
  if (!c.caller.may_act_for(done->results[0].int64(0, 0))) co_return forbidden("not your account");
  const auto& rows = done->results[1];
  json items = json::array();
  for (int row = 0; row < rows.rows(); ++row) items.push_back(history_row(rows, row, *id));
  json body{{"transfers", std::move(items)}};
  body["next_before"] = rows.rows() == p->limit ? json(rows.int64(rows.rows() - 1, 0)) : json(nullptr);
  co_return http::json_response(http::status::ok, body);
}

}  // namespace

void add_account_routes(http::router<http::endpoint>& routes, context& bank) {
  routes.add(verb::post, "/accounts", secured(bank, access::any_key, open_account));
  routes.add(verb::get, "/accounts/{id}", secured(bank, access::any_key, get_account));
  routes.add(verb::delete_, "/accounts/{id}", secured(bank, access::any_key, remove_account));
  routes.add(verb::get, "/users/{id}/accounts", secured(bank, access::any_key, list_user_accounts));
  routes.add(verb::get, "/accounts/{id}/transfers", secured(bank, access::any_key, list_history));
}

}  // namespace bankd::bank
