#include "bank/webhooks.hpp"

#include "db/rows.hpp"
#include "util/crypto.hpp"

#include <algorithm>
#include <set>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// $1 url, $2 event types, $3 description, $4 secret, $5 the most live
// endpoints. Delivery starts after the newest event the transaction sees:
// later ones commit after it and so have larger ids (migration 014).
constexpr db::statement insert_webhook{"webhooks.insert", R"sql(
INSERT INTO webhook_endpoints (url, event_types, description, secret, delivered_through)
SELECT $1, $2::text[], $3, $4, COALESCE((SELECT max(id) FROM events), 0)
 WHERE (SELECT count(*) FROM webhook_endpoints WHERE deleted_at IS NULL) < $5
RETURNING (shown_webhook(webhook_endpoints)).*
)sql"};

constexpr db::statement list_webhooks{"webhooks.list", R"sql(
SELECT (shown_webhook(w)).* FROM webhook_endpoints w WHERE deleted_at IS NULL ORDER BY id
)sql"};

constexpr db::statement find_webhook{"webhooks.find", R"sql(
SELECT (shown_webhook(w)).* FROM webhook_endpoints w WHERE id = $1 AND deleted_at IS NULL
)sql"};

constexpr db::statement delete_webhook{"webhooks.delete", R"sql(
UPDATE webhook_endpoints w SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL
RETURNING (shown_webhook(w)).*
)sql"};

// $2 the new secret; the one it replaces keeps signing for a day.
constexpr db::statement rotate_webhook_secret{"webhooks.rotate", R"sql(
UPDATE webhook_endpoints w
   SET previous_secret = secret, previous_secret_expires_at = now() + interval '24 hours', secret = $2
 WHERE id = $1 AND deleted_at IS NULL
RETURNING (shown_webhook(w)).*
)sql"};

// The cursor stays: the backlog since the endpoint was disabled is delivered.
constexpr db::statement enable_webhook{"webhooks.enable", R"sql(
UPDATE webhook_endpoints w
   SET status = 'enabled', disabled_at = NULL, consecutive_failures = 0, failing_since = NULL,
       next_attempt_at = NULL
 WHERE id = $1 AND deleted_at IS NULL
RETURNING (shown_webhook(w)).*
)sql"};

error operator_only() { return {errc::forbidden, "webhooks are managed with the operator key"}; }

error no_such_webhook(std::int64_t id) {
  return {errc::not_found, "webhook " + std::to_string(id) + " does not exist"};
}

}  // namespace

const std::vector<std::string>& webhook_event_types() {
  static const std::vector<std::string> types{
      "transfer.created", "deposit.created", "transfer.pending", "transfer.posted",
      "transfer.voided",  "transfer.expired", "transfer.reversed", "account.created",
      "account.closed",   "user.created",     "user.deleted"};
  return types;
}

std::vector<std::string> webhook::events() const {
  std::vector<std::string> out;
  std::string_view rest = event_types;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    out.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

std::string generate_webhook_secret() { return "whsec_" + util::base64_encode(util::random_bytes(32)); }

std::optional<error> webhook_service::refusal(const new_webhook& w) const {
  if (w.url.empty() || w.url.size() > max_webhook_url_length)
    return error{errc::invalid, "'url' must be 1.." + std::to_string(max_webhook_url_length) + " characters"};
  if (w.events.empty() || w.events.size() > max_webhook_event_types)
    return error{errc::invalid, "'events' must list 1.." + std::to_string(max_webhook_event_types) + " event types"};
  const auto& known = webhook_event_types();
  if (std::set<std::string>(w.events.begin(), w.events.end()).size() != w.events.size())
    return error{errc::invalid, "'events' lists a type twice"};
  for (const auto& type : w.events) {
    if (type == "*" && w.events.size() > 1) return error{errc::invalid, "'*' stands alone in 'events'"};
    if (type != "*" && std::find(known.begin(), known.end(), type) == known.end())
      return error{errc::invalid, "'" + type + "' is not an event type"};
  }
  const auto parsed = util::parse_http_url(w.url);
  if (!parsed.address) return error{errc::url_not_allowed, "'url': " + parsed.refusal};
  if (!allowed_ || allowed_->empty())
    return error{errc::url_not_allowed, "webhooks are off: the server's --webhook-allow list is empty"};
  if (!allowed_->allows(*parsed.address))
    return error{errc::url_not_allowed, "the host '" + parsed.address->host + "' is not on the server's --webhook-allow list"};
  return std::nullopt;
}

net::awaitable<result<webhook_with_secret>> webhook_service::create(call& c, const new_webhook& w) {
  if (!c.caller.is_operator) co_return operator_only();
  if (auto refused = refusal(w)) co_return std::move(*refused);
  db::array_literal types;
  for (const auto& t : w.events) types.add(t);
  auto secret = generate_webhook_secret();
  const auto params = db::params{}.add(w.url).add(types.text()).add(w.description).add(secret).add(
      static_cast<std::int64_t>(max_webhooks));
  auto done = co_await db_.transact(c, "webhooks.create", [&](db::transaction& tx) -> net::awaitable<db::result<db::batch_result>> {
    db::batch b;
    b.add(insert_webhook, params);
    co_return co_await tx.execute_and_commit(b);
  });
  if (!done) co_return from_db(done.error(), "webhooks.create", effect::write);
  if (auto made = db::read_optional_row<webhook>(done->results[0]))
    co_return webhook_with_secret{std::move(*made), std::move(secret)};
  co_return error{errc::limit_reached, "at most " + std::to_string(max_webhooks) + " webhooks"};
}

net::awaitable<result<std::vector<webhook>>> webhook_service::list(call& c) {
  if (!c.caller.is_operator) co_return operator_only();
  db::batch b;
  b.add(list_webhooks);
  auto done = co_await db_.query(c, b, "webhooks.list");
  if (!done) co_return done.error();
  co_return db::read_rows<webhook>(done->results[0]);
}

net::awaitable<result<webhook>> webhook_service::get(call& c, std::int64_t id) {
  if (!c.caller.is_operator) co_return operator_only();
  db::batch b;
  b.add(find_webhook, db::params{}.add(id));
  auto done = co_await db_.query(c, b, "webhooks.get");
  if (!done) co_return done.error();
  if (auto found = db::read_optional_row<webhook>(done->results[0])) co_return std::move(*found);
  co_return no_such_webhook(id);
}

net::awaitable<result<webhook>> webhook_service::change(call& c, std::int64_t id, const db::statement& stmt,
                                                        db::params values, std::string_view operation) {
  if (!c.caller.is_operator) co_return operator_only();
  auto done = co_await db_.transact(c, operation, [&](db::transaction& tx) -> net::awaitable<db::result<db::batch_result>> {
    db::batch b;
    b.add(stmt, values);
    co_return co_await tx.execute_and_commit(b);
  });
  if (!done) co_return from_db(done.error(), operation, effect::write);
  if (auto changed = db::read_optional_row<webhook>(done->results[0])) co_return std::move(*changed);
  co_return no_such_webhook(id);
}

net::awaitable<result<void>> webhook_service::remove(call& c, std::int64_t id) {
  auto done = co_await change(c, id, delete_webhook, db::params{}.add(id), "webhooks.delete");
  if (!done) co_return done.error();
  co_return result<void>{};
}

net::awaitable<result<webhook_with_secret>> webhook_service::rotate_secret(call& c, std::int64_t id) {
  auto secret = generate_webhook_secret();
  auto done = co_await change(c, id, rotate_webhook_secret, db::params{}.add(id).add(secret), "webhooks.rotate");
  if (!done) co_return done.error();
  co_return webhook_with_secret{std::move(*done), std::move(secret)};
}

net::awaitable<result<webhook>> webhook_service::enable(call& c, std::int64_t id) {
  co_return co_await change(c, id, enable_webhook, db::params{}.add(id), "webhooks.enable");
}

}  // namespace bankd::bank
