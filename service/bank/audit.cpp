#include "bank/audit.hpp"

#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement audited_balances{"audit.balances", R"sql(
SELECT id, currency, balance, kind FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id
)sql"};

constexpr db::statement currency_totals{"audit.totals", R"sql(
SELECT currency,
       COALESCE(sum(balance) FILTER (WHERE kind = 'customer'), 0) AS customer_total,
       COALESCE(sum(balance) FILTER (WHERE kind = 'funding'), 0) AS funding_balance,
       sum(balance) AS sum,
       count(*) FILTER (WHERE kind = 'customer') AS customer_accounts
  FROM accounts GROUP BY currency ORDER BY currency
)sql"};

}  // namespace

net::awaitable<result<audit_snapshot>> audit_service::balances(call& c, const std::vector<std::int64_t>& ids) {
  if (ids.size() > max_audited_accounts)
    co_return error{errc::invalid, "at most " + std::to_string(max_audited_accounts) + " account ids per audit"};
  db::batch b;
  b.add(audited_balances, db::params{}.add_array(ids));
  b.add(currency_totals);
  auto done = co_await db_.query(c, b, "audit", effect::read, {db::isolation::repeatable_read_read_only, true});
  if (!done) co_return done.error();
  co_return audit_snapshot{db::read_rows<audited_account>(done->results[0]),
                           db::read_rows<currency_total>(done->results[1])};
}

}  // namespace bankd::bank
