#include "bank/accounts.hpp"

#include "bank/statements.hpp"
#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

#define BANKD_ACCOUNT_COLUMNS                                                             \
  "id, user_id, currency, balance, held, metadata::text AS metadata, "                    \
  "rfc3339(created_at) AS created_at, rfc3339(closed_at) AS closed_at, "                  \
  "rfc3339(frozen_at) AS frozen_at"

// The currency's funding account is created with its first customer account,
// in the same transaction, so deposits always find one.
// The NOT EXISTS keeps the common case from drawing an id it would not use.
constexpr db::statement ensure_funding_account{"accounts.ensure_funding", R"sql(
INSERT INTO accounts (user_id, currency, kind)
SELECT 0, $1, 'funding'
 WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE kind = 'funding' AND currency = $1)
ON CONFLICT (currency) WHERE kind = 'funding' DO NOTHING
)sql"};

// $1 owner, $2 currency, $3 most open accounts, $4 initiator, $5 idempotency
// key or NULL, $6 request hash, $7 metadata (a JSON object) or NULL. The count is read in the same SERIALIZABLE
// transaction, so two concurrent opens cannot both pass the cap.
constexpr db::statement insert_account{"accounts.insert", R"sql(
WITH owner AS (
  SELECT id FROM live_users
   WHERE id = $1 AND (SELECT count(*) FROM accounts WHERE user_id = $1 AND closed_at IS NULL) < $3),
made AS (
  INSERT INTO accounts (user_id, currency, metadata) SELECT id, $2, $7::jsonb FROM owner
  RETURNING *),
noted AS (
  INSERT INTO creation_requests (initiated_by, operation, idempotency_key, request_sha256, resource_id)
  SELECT $4, 'accounts.open', $5, $6, id FROM made WHERE $5::text IS NOT NULL)
SELECT )sql" BANKD_ACCOUNT_COLUMNS R"sql( FROM made
)sql"};

constexpr db::statement select_account{"accounts.select", "SELECT " BANKD_ACCOUNT_COLUMNS R"sql(
  FROM accounts WHERE id = $1 AND kind = 'customer'
)sql"};

// Keyset pagination on id; one row more than the page tells whether another follows.
constexpr db::statement select_user_accounts{"accounts.of_user", "SELECT " BANKD_ACCOUNT_COLUMNS R"sql(
  FROM accounts WHERE user_id = $1 AND kind = 'customer' AND id > $2 ORDER BY id LIMIT $3
)sql"};

constexpr db::statement close_account{"accounts.close", R"sql(
UPDATE accounts SET closed_at = now()
 WHERE id = $1 AND kind = 'customer' AND closed_at IS NULL AND balance = 0
RETURNING id
)sql"};

constexpr db::statement freeze_account{"accounts.freeze", R"sql(
UPDATE accounts SET frozen_at = CASE WHEN $2 THEN COALESCE(frozen_at, now()) END
 WHERE id = $1 AND kind = 'customer'
RETURNING )sql" BANKD_ACCOUNT_COLUMNS};

#undef BANKD_ACCOUNT_COLUMNS
error no_such_account(std::int64_t id) {
  return {errc::not_found, "account " + std::to_string(id) + " does not exist"};
}
error not_your_account() { return {errc::forbidden, "not your account"}; }

}  // namespace

net::awaitable<result<created<account>>> account_service::open(call& c, std::int64_t owner, const std::string& currency,
                                                               const std::optional<std::string>& metadata,
                                                               std::optional<std::string> idempotency_key) {
  if (!c.caller.may_act_for(owner)) co_return error{errc::forbidden, "accounts can only be opened for yourself"};
  if (rules_.currencies != nullptr && !rules_.currencies->exponent(currency))
    co_return error{errc::invalid, "currency " + currency + " is not one this bank keeps accounts in"};
  // The metadata is part of the request a replay must match.
  const std::string owner_text = std::to_string(owner);
  const std::string metadata_text = metadata ? "+" + *metadata : "-";
  const auto key = make_creation_key(std::move(idempotency_key), {owner_text, currency, metadata_text});
  db::params values;
  values.add(owner).add(currency).add(static_cast<std::int64_t>(rules_.max_open_per_user)).add(c.caller.user_id)
      .add(key.key).add(key.request_sha256).add(metadata);
  // SERIALIZABLE, like deleting a user: otherwise an account could be opened
  // for a user whose deletion commits at the same moment.
  auto done = co_await db_.transact(c, "accounts.open", [&](db::transaction& tx) -> net::awaitable<db::result<db::batch_result>> {
    db::batch b;
    b.add(ensure_funding_account, db::params{}.add(currency));
    b.add(insert_account, values);
    b.add(sql::user_exists, db::params{}.add(owner));
    co_return co_await tx.execute_and_commit(b);
  });
  if (!done && done.error().code == db::errc::unique_violation) co_return co_await replay(c, key, done.error());
  if (!done) co_return from_db(done.error(), "accounts.open", effect::write);
  if (auto opened = db::read_optional_row<account>(done->results[1])) co_return created<account>{std::move(*opened), false};
  if (!db::read_row<sql::exists_row>(done->results[2]).found)
    co_return error{errc::not_found, "user " + std::to_string(owner) + " does not exist"};
  co_return error{errc::limit_reached, "a user holds at most " + std::to_string(rules_.max_open_per_user) +
                                           " open accounts; close one first"};
}

net::awaitable<result<created<account>>> account_service::replay(call& c, const creation_key& key,
                                                                 const db::error& failure) {
  auto earlier = co_await find_creation(c, db_, "accounts.open", key);
  if (!earlier) co_return earlier.error();
  if (!*earlier) co_return from_db(failure, "accounts.open", effect::write);
  db::batch b;
  b.add(select_account, db::params{}.add(**earlier));
  auto done = co_await db_.query(c, b, "accounts.open");
  if (!done) co_return done.error();
  co_return created<account>{db::read_row<account>(done->results[0]), true};
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

net::awaitable<result<account_page>> account_service::of_user(call& c, std::int64_t user_id, account_query q) {
  if (!c.caller.may_act_for(user_id)) co_return error{errc::forbidden, "not your user"};
  db::batch b;
  b.add(sql::user_exists, db::params{}.add(user_id));
  b.add(select_user_accounts, db::params{}.add(user_id).add(q.after).add(q.limit + 1));
  auto done = co_await db_.query(c, b, "accounts.list");
  if (!done) co_return done.error();
  if (!db::read_row<sql::exists_row>(done->results[0]).found)
    co_return error{errc::not_found, "user " + std::to_string(user_id) + " does not exist"};
  account_page page{db::read_rows<account>(done->results[1]), std::nullopt};
  if (static_cast<std::int64_t>(page.accounts.size()) > q.limit) {
    page.accounts.pop_back();
    page.next_after = page.accounts.back().id;
  }
  co_return page;
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

net::awaitable<result<account>> account_service::set_frozen(call& c, std::int64_t id, bool frozen) {
  if (!c.caller.is_operator) co_return error{errc::forbidden, "only the operator freezes accounts"};
  auto done = co_await db_.transact(c, "accounts.freeze", [&](db::transaction& tx) -> net::awaitable<db::result<db::query_result>> {
    db::batch b;
    b.add(freeze_account, db::params{}.add(id).add(frozen));
    auto sent = co_await tx.execute_and_commit(b);
    if (!sent) co_return sent.error();
    co_return std::move(sent->results[0]);
  });
  if (!done) co_return from_db(done.error(), "accounts.freeze", effect::write);
  auto changed = db::read_optional_row<account>(*done);
  if (!changed) co_return no_such_account(id);
  co_return std::move(*changed);
}

}  // namespace bankd::bank
