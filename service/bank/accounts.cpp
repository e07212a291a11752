#include "bank/accounts.hpp"

#include "bank/statements.hpp"
#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// The currency's funding account is created with its first customer account,
// in the same transaction, so deposits always find one.
// The NOT EXISTS keeps the common case from drawing an id it would not use.
constexpr db::statement ensure_funding_account{"accounts.ensure_funding", R"sql(
INSERT INTO accounts (user_id, currency, kind)
SELECT 0, $1, 'funding'
 WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE kind = 'funding' AND currency = $1)
ON CONFLICT (currency) WHERE kind = 'funding' DO NOTHING
)sql"};

constexpr db::statement insert_account{"accounts.insert", R"sql(
INSERT INTO accounts (user_id, currency, metadata)
SELECT $1, $2, $3::jsonb WHERE EXISTS (SELECT 1 FROM live_users WHERE id = $1)
RETURNING id, user_id, currency, balance, held, metadata::text AS metadata,
          rfc3339(created_at) AS created_at, rfc3339(closed_at) AS closed_at
)sql"};

constexpr db::statement select_account{"accounts.select", R"sql(
SELECT id, user_id, currency, balance, held, metadata::text AS metadata,
       rfc3339(created_at) AS created_at, rfc3339(closed_at) AS closed_at
  FROM accounts WHERE id = $1 AND kind = 'customer'
)sql"};

constexpr db::statement select_user_accounts{"accounts.of_user", R"sql(
SELECT id, user_id, currency, balance, held, metadata::text AS metadata,
       rfc3339(created_at) AS created_at, rfc3339(closed_at) AS closed_at
  FROM accounts WHERE user_id = $1 AND kind = 'customer' ORDER BY id LIMIT 1000
)sql"};

constexpr db::statement close_account{"accounts.close", R"sql(
UPDATE accounts SET closed_at = now()
 WHERE id = $1 AND kind = 'customer' AND closed_at IS NULL AND balance = 0
RETURNING id
)sql"};

error no_such_account(std::int64_t id) {
  return {errc::not_found, "account " + std::to_string(id) + " does not exist"};
}
error not_your_account() { return {errc::forbidden, "not your account"}; }

}  // namespace

net::awaitable<result<account>> account_service::open(call& c, std::int64_t owner, const std::string& currency,
                                                      const std::optional<std::string>& metadata) {
  if (!c.caller.may_act_for(owner)) co_return error{errc::forbidden, "accounts can only be opened for yourself"};
  // SERIALIZABLE, like deleting a user: otherwise an account could be opened
  // for a user whose deletion commits at the same moment.
  auto done = co_await db_.transact(c, "accounts.open", [&](db::transaction& tx) -> net::awaitable<db::result<db::query_result>> {
    db::batch b;
    b.add(ensure_funding_account, db::params{}.add(currency));
    b.add(insert_account, db::params{}.add(owner).add(currency).add(metadata));
    auto sent = co_await tx.execute_and_commit(b);
    if (!sent) co_return sent.error();
    co_return std::move(sent->results[1]);
  });
  if (!done) co_return from_db(done.error(), "accounts.open", effect::write);
  auto opened = db::read_optional_row<account>(*done);
  if (!opened) co_return error{errc::not_found, "user " + std::to_string(owner) + " does not exist"};
  co_return std::move(*opened);
}

net::awaitable<result<account>> account_service::get(call& c, std::int64_t id) {
  db::batch b;
  b.add(select_account, db::params{}.add(id));
  auto done = co_await db_.query(c, b, "accounts.get");
  if (!done) co_return done.error();
  auto found = db::read_optional_row<account>(done->results[0]);
  if (!found) co_return no_such_account(id);
  if (!c.caller.may_act_for(found->user_id)) co_return not_your_account();
  co_return std::move(*found);
}

net::awaitable<result<std::vector<account>>> account_service::of_user(call& c, std::int64_t user_id) {
  if (!c.caller.may_act_for(user_id)) co_return error{errc::forbidden, "not your user"};
  db::batch b;
  b.add(sql::user_exists, db::params{}.add(user_id));
  b.add(select_user_accounts, db::params{}.add(user_id));
  auto done = co_await db_.query(c, b, "accounts.list");
  if (!done) co_return done.error();
  if (!db::read_row<sql::exists_row>(done->results[0]).found)
    co_return error{errc::not_found, "user " + std::to_string(user_id) + " does not exist"};
  co_return db::read_rows<account>(done->results[1]);
}

net::awaitable<result<void>> account_service::close(call& c, std::int64_t id) {
  auto found = co_await get(c, id);
  if (!found) co_return found.error();
  if (found->closed_at) co_return result<void>{};
  // SERIALIZABLE: a credit racing with the close makes one of them retry.
  auto done = co_await db_.transact(c, "accounts.close", [&](db::transaction& tx) -> net::awaitable<db::result<bool>> {
    db::batch b;
    b.add(close_account, db::params{}.add(id));
    auto sent = co_await tx.execute_and_commit(b);
    if (!sent) co_return sent.error();
    co_return sent->results[0].rows() == 1;
  });
  if (!done) co_return from_db(done.error(), "accounts.close", effect::write);
  if (!*done) co_return error{errc::balance_not_zero, "only an empty account can be closed"};
  co_return result<void>{};
}

}  // namespace bankd::bank
