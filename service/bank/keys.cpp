#include "bank/keys.hpp"

#include "bank/statements.hpp"
#include "db/rows.hpp"
#include "util/crypto.hpp"

#include <algorithm>

namespace bankd::bank {
namespace net = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// `stale`: last_used_at is unset or older than a minute, so this use should
// be recorded (at most about once a minute per key, not once per request).
constexpr db::statement find_user_by_key{"keys.find_user", R"sql(
SELECT k.id, k.user_id,
       (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale
  FROM api_keys k JOIN live_users u ON u.id = k.user_id
 WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL
)sql"};

// Not SERIALIZABLE, on purpose: a single-row timestamp no decision reads, so
// a lost or late update costs nothing; and it must not fail a request on a
// database that refuses writes.
constexpr db::statement touch_key{"keys.touch", R"sql(
UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL
)sql"};

constexpr db::statement insert_key{"keys.insert", R"sql(
INSERT INTO api_keys (user_id, name, key_sha256)
SELECT id, $2, $3 FROM live_users
 WHERE id = $1
   AND (SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL) < $4
RETURNING id, name, rfc3339(created_at) AS created_at, rfc3339(last_used_at) AS last_used_at
)sql"};

constexpr db::statement list_keys{"keys.list", R"sql(
SELECT id, name, rfc3339(created_at) AS created_at, rfc3339(last_used_at) AS last_used_at
  FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id
)sql"};

constexpr db::statement revoke_key{"keys.revoke", R"sql(
UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
 WHERE id = $2 AND user_id = $1
RETURNING key_sha256
)sql"};

struct key_owner {
  std::int64_t id;
  std::int64_t user_id;
  bool stale;
};
BOOST_DESCRIBE_STRUCT(key_owner, (), (id, user_id, stale))

struct revoked_row {
  std::string key_sha256;
};
BOOST_DESCRIBE_STRUCT(revoked_row, (), (key_sha256))

error not_yours() { return {errc::forbidden, "not your user"}; }
error no_such_user(std::int64_t id) { return {errc::not_found, "user " + std::to_string(id) + " does not exist"}; }

}  // namespace

std::string generate_api_key() { return "bk_" + util::random_token(32); }

std::string api_key_digest(std::string_view key) { return util::sha256_hex(key); }

net::awaitable<result<std::optional<identity>>> key_verifier::verify(call& c, std::string_view key,
                                                                     std::string_view client) {
  bool is_operator = false;
  for (const auto& op : operator_keys_) is_operator |= util::constant_time_equal(key, op);
  if (is_operator) co_return identity{operator_user_id, true};

  auto digest = api_key_digest(key);
  const auto now = clock::now();
  if (const auto known = cache_.find(digest, now); known.remembered) {
    if (known.user_id) co_return identity{*known.user_id, false};
    if (limiter_ != nullptr) limiter_->failed(client);
    co_return std::optional<identity>{};
  }
  if (limiter_ != nullptr && !limiter_->may_try(client))
    co_return error{errc::rate_limited, "too many failed authentications from this address; retry later"};

  db::batch lookup;
  lookup.add(find_user_by_key, db::params{}.add(digest));
  auto found = co_await db_.query(c, lookup, "authenticate");
  if (!found) co_return found.error();
  const auto owner = db::read_optional_row<key_owner>(found->results[0]);
  if (!owner) {
    if (limiter_ != nullptr) limiter_->failed(client);
    cache_.remember_refused(digest, now + refusal_ttl);
    co_return std::optional<identity>{};
  }
  if (owner->stale) co_await touch(c, owner->id);
  cache_.remember_verified(digest, owner->user_id, now + cache_ttl);
  co_return identity{owner->user_id, false};
}

net::awaitable<void> key_verifier::touch(call& c, std::int64_t key_id) {
  db::batch b;
  b.add(touch_key, db::params{}.add(key_id));
  // Best effort: the request goes on whatever happens to the timestamp.
  [[maybe_unused]] auto done = co_await db_.query_raw(c, b);
}

net::awaitable<result<new_api_key>> key_service::create(call& c, std::int64_t user_id, const std::string& name) {
  if (!c.caller.may_act_for(user_id)) co_return not_yours();
  auto secret = generate_api_key();
  const auto digest = api_key_digest(secret);
  auto done = co_await db_.transact(c, "keys.create", [&](db::transaction& tx) -> net::awaitable<db::result<db::batch_result>> {
    db::batch b;
    b.add(insert_key, db::params{}.add(user_id).add(name).add(digest).add(static_cast<std::int64_t>(max_keys_per_user)));
    b.add(sql::user_exists, db::params{}.add(user_id));
    co_return co_await tx.execute_and_commit(b);
  });
  if (!done) co_return from_db(done.error(), "keys.create", effect::write);
  if (auto made = db::read_optional_row<api_key>(done->results[0])) co_return new_api_key{std::move(*made), std::move(secret)};
  if (!db::read_row<sql::exists_row>(done->results[1]).found) co_return no_such_user(user_id);
  co_return error{errc::limit_reached, "a user holds at most " + std::to_string(max_keys_per_user) +
                                           " keys; revoke one first"};
}

net::awaitable<result<std::vector<api_key>>> key_service::list(call& c, std::int64_t user_id) {
  if (!c.caller.may_act_for(user_id)) co_return not_yours();
  db::batch b;
  b.add(sql::user_exists, db::params{}.add(user_id));
  b.add(list_keys, db::params{}.add(user_id));
  auto done = co_await db_.query(c, b, "keys.list");
  if (!done) co_return done.error();
  if (!db::read_row<sql::exists_row>(done->results[0]).found) co_return no_such_user(user_id);
  co_return db::read_rows<api_key>(done->results[1]);
}

net::awaitable<result<void>> key_service::revoke(call& c, std::int64_t user_id, std::int64_t key_id) {
  if (!c.caller.may_act_for(user_id)) co_return not_yours();
  auto done = co_await db_.transact(c, "keys.revoke", [&](db::transaction& tx) -> net::awaitable<db::result<db::query_result>> {
    db::batch b;
    b.add(revoke_key, db::params{}.add(user_id).add(key_id));
    auto sent = co_await tx.execute_and_commit(b);
    if (!sent) co_return sent.error();
    co_return std::move(sent->results[0]);
  });
  if (!done) co_return from_db(done.error(), "keys.revoke", effect::write);
  const auto revoked = db::read_optional_row<revoked_row>(*done);
  if (!revoked)
    co_return error{errc::not_found, "key " + std::to_string(key_id) + " of user " + std::to_string(user_id) +
                                         " does not exist"};
  verifier_.forget_key(revoked->key_sha256);
  co_return result<void>{};
}

}  // namespace bankd::bank
