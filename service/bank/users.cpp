#include "bank/users.hpp"

#include "bank/statements.hpp"
#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// The user, its first key and (with an Idempotency-Key, $5 not NULL) the
// record of the request, all or nothing.
constexpr db::statement insert_user{"users.insert", R"sql(
WITH made AS (
  INSERT INTO users (name, email) VALUES ($1, $2)
  RETURNING id, name, email, created_at, frozen_at),
first_key AS (
  INSERT INTO api_keys (user_id, name, key_sha256) SELECT id, 'default', $3 FROM made),
noted AS (
  INSERT INTO creation_requests (initiated_by, operation, idempotency_key, request_sha256, resource_id)
  SELECT $4, 'users.create', $5, $6, id FROM made WHERE $5::text IS NOT NULL)
SELECT id, name, email, rfc3339(created_at) AS created_at, rfc3339(frozen_at) AS frozen_at FROM made
)sql"};

constexpr db::statement select_user{"users.select", R"sql(
SELECT id, name, email, rfc3339(created_at) AS created_at, rfc3339(frozen_at) AS frozen_at
  FROM live_users WHERE id = $1
)sql"};

// A replay shows what was made, even if it was deleted since.
constexpr db::statement select_any_user{"users.select_any", R"sql(
SELECT id, name, email, rfc3339(created_at) AS created_at, rfc3339(frozen_at) AS frozen_at
  FROM users WHERE id = $1
)sql"};

constexpr db::statement update_user{"users.update", R"sql(
UPDATE live_users SET name = COALESCE($2, name), email = COALESCE($3, email)
 WHERE id = $1
RETURNING id, name, email, rfc3339(created_at) AS created_at, rfc3339(frozen_at) AS frozen_at
)sql"};

constexpr db::statement freeze_user{"users.freeze", R"sql(
UPDATE live_users SET frozen_at = CASE WHEN $2 THEN COALESCE(frozen_at, now()) END
 WHERE id = $1
RETURNING id, name, email, rfc3339(created_at) AS created_at, rfc3339(frozen_at) AS frozen_at
)sql"};

// Deletes only a user whose accounts are all empty, closing them and revoking
// its keys. It runs SERIALIZABLE, so a credit or an account opened while it
// runs makes one of them retry and see the other.
constexpr db::statement delete_user{"users.delete", R"sql(
WITH target AS (
  SELECT id FROM live_users
   WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM accounts WHERE user_id = $1 AND balance <> 0)),
closed AS (
  UPDATE accounts SET closed_at = now()
   WHERE user_id IN (SELECT id FROM target) AND closed_at IS NULL
  RETURNING id),
revoked AS (
  UPDATE api_keys SET revoked_at = now()
   WHERE user_id IN (SELECT id FROM target) AND revoked_at IS NULL
  RETURNING id)
UPDATE users SET deleted_at = now()
 WHERE id IN (SELECT id FROM target)
RETURNING id, (SELECT count(*) FROM closed) AS accounts_closed, (SELECT count(*) FROM revoked) AS keys_revoked
)sql"};

error email_taken() { return {errc::email_taken, "a user with this email already exists"}; }
error no_such_user(std::int64_t id) { return {errc::not_found, "user " + std::to_string(id) + " does not exist"}; }
error not_yours() { return {errc::forbidden, "not your user"}; }

// One statement in a transaction, committed; its rows, or the database error.
auto run_one(const db::statement& stmt, db::params values) {
  return [&stmt, values = std::move(values)](db::transaction& tx) -> net::awaitable<db::result<db::query_result>> {
    db::batch b;
    b.add(stmt, values);
    auto done = co_await tx.execute_and_commit(b);
    if (!done) co_return done.error();
    co_return std::move(done->results[0]);
  };
}

}  // namespace

net::awaitable<result<new_user>> user_service::create(call& c, const std::string& name, const std::string& email,
                                                      std::optional<std::string> idempotency_key) {
  const auto key = make_creation_key(std::move(idempotency_key), {name, email});
  auto secret = generate_api_key();
  db::params values;
  values.add(name).add(email).add(api_key_digest(secret)).add(c.caller.user_id).add(key.key).add(key.request_sha256);
  auto done = co_await db_.transact(c, "users.create", run_one(insert_user, std::move(values)));
  if (!done && done.error().code == db::errc::unique_violation) co_return co_await replay(c, key, done.error());
  if (!done) co_return from_db(done.error(), "users.create", effect::write);
  co_return new_user{db::read_row<user>(*done), std::move(secret), false};
}

net::awaitable<result<new_user>> user_service::replay(call& c, const creation_key& key, const db::error& failure) {
  auto earlier = co_await find_creation(c, db_, "users.create", key);
  if (!earlier) co_return earlier.error();
  if (!*earlier) {
    if (failure.constraint == "users_email_lower_key") co_return email_taken();
    co_return from_db(failure, "users.create", effect::write);
  }
  db::batch b;
  b.add(select_any_user, db::params{}.add(**earlier));
  auto done = co_await db_.query(c, b, "users.create");
  if (!done) co_return done.error();
  co_return new_user{db::read_row<user>(done->results[0]), std::nullopt, true};
}

net::awaitable<result<user>> user_service::get(call& c, std::int64_t id) {
  if (!c.caller.may_act_for(id)) co_return not_yours();
  db::batch b;
  b.add(select_user, db::params{}.add(id));
  auto done = co_await db_.query(c, b, "users.get");
  if (!done) co_return done.error();
  auto found = db::read_optional_row<user>(done->results[0]);
  if (!found) co_return no_such_user(id);
  co_return std::move(*found);
}

net::awaitable<result<user>> user_service::update(call& c, std::int64_t id, const user_changes& changes) {
  if (!c.caller.may_act_for(id)) co_return not_yours();
  auto done = co_await db_.transact(c, "users.update",
                                    run_one(update_user, db::params{}.add(id).add(changes.name).add(changes.email)));
  if (!done && done.error().code == db::errc::unique_violation) co_return email_taken();
  if (!done) co_return from_db(done.error(), "users.update", effect::write);
  auto updated = db::read_optional_row<user>(*done);
  if (!updated) co_return no_such_user(id);
  co_return std::move(*updated);
}

net::awaitable<result<user>> user_service::set_frozen(call& c, std::int64_t id, bool frozen) {
  if (!c.caller.is_operator) co_return error{errc::forbidden, "only the operator freezes users"};
  auto done = co_await db_.transact(c, "users.freeze", run_one(freeze_user, db::params{}.add(id).add(frozen)));
  if (!done) co_return from_db(done.error(), "users.freeze", effect::write);
  auto changed = db::read_optional_row<user>(*done);
  if (!changed) co_return no_such_user(id);
  co_return std::move(*changed);
}

net::awaitable<result<void>> user_service::remove(call& c, std::int64_t id) {
  if (!c.caller.may_act_for(id)) co_return not_yours();
  auto done = co_await db_.transact(c, "users.delete", run_one(delete_user, db::params{}.add(id)));
  if (!done) co_return from_db(done.error(), "users.delete", effect::write);
  if (done->rows() == 1) {
    keys_.forget(id);
    co_return result<void>{};
  }
  db::batch check;
  check.add(sql::user_exists, db::params{}.add(id));
  auto exists = co_await db_.query(c, check, "users.delete");
  if (!exists) co_return exists.error();
  if (!db::read_row<sql::exists_row>(exists->results[0]).found) co_return no_such_user(id);
  co_return error{errc::user_holds_money, "the user still has money; empty its accounts first"};
}

}  // namespace bankd::bank
