#include "bank/history.hpp"

#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// Every statement below names one account_id, so each branch of
// account_entries walks its own entry index, (from|to)_account_id,
// created_at, id, starting at the page's edge; the few rows a page needs
// are read and the walk stops. A cursor (before, after) is the id of the
// last entry shown; its created_at is looked up by primary key.

constexpr db::statement account_of{"history.account", R"sql(
SELECT user_id, currency, rfc3339(coalesce($2::timestamptz, now())) AS at
  FROM accounts WHERE id = $1
)sql"};

struct account_row {
  std::int64_t user_id = 0;
  std::string currency;
  std::string at;
};
BOOST_DESCRIBE_STRUCT(account_row, (), (user_id, currency, at))

// Newest first. $2 before, $3 from, $4 to, $5 direction, $6 status,
// $7 reference, $8 and $9 a metadata key and value, $10 the page size.
constexpr db::statement account_history{"history.page", R"sql(
SELECT v.*, e.direction, e.balance_after, e.held_after, e.counterparty_account_id,
       u.id AS counterparty_user_id, u.name AS counterparty_name
  FROM account_entries e
  JOIN transfer_views v ON v.id = e.id
  JOIN accounts c ON c.id = e.counterparty_account_id
  JOIN users u ON u.id = c.user_id
 WHERE e.account_id = $1
   AND (e.created_at, e.id) < (coalesce((SELECT t.created_at FROM transfers t WHERE t.id = $2),
                                        CASE WHEN $2::bigint IS NULL THEN 'infinity'::timestamptz END),
                               coalesce($2, 9223372036854775807))
   AND e.created_at >= coalesce($3::timestamptz, '-infinity')
   AND e.created_at <= coalesce($4::timestamptz, 'infinity')
   AND ($5::text IS NULL OR e.direction = $5)
   AND ($6::text IS NULL OR v.status = $6)
   AND ($7::text IS NULL OR e.reference = $7)
   AND ($8::text IS NULL OR e.metadata @> jsonb_build_object($8::text, $9::text))
 ORDER BY e.created_at DESC, e.id DESC
 LIMIT $10
)sql"};

// The latest entry up to an instant ($2, or now), in either direction.
constexpr db::statement balance_at_instant{"history.balance_at", R"sql(
SELECT e.balance_after, e.held_after, e.id
  FROM account_entries e
 WHERE e.account_id = $1 AND e.created_at <= coalesce($2::timestamptz, now())
 ORDER BY e.created_at DESC, e.id DESC
 LIMIT 1
)sql"};

// The same just before an instant: a statement's opening.
constexpr db::statement balance_before_instant{"history.balance_before", R"sql(
SELECT e.balance_after, e.held_after, e.id
  FROM account_entries e
 WHERE e.account_id = $1 AND e.created_at < $2::timestamptz
 ORDER BY e.created_at DESC, e.id DESC
 LIMIT 1
)sql"};

struct point_row {
  std::int64_t balance_after = 0;
  std::int64_t held_after = 0;
  std::int64_t id = 0;
};
BOOST_DESCRIBE_STRUCT(point_row, (), (balance_after, held_after, id))

// Oldest first: the rows that changed the balance. $2 from, $3 to,
// $4 after, $5 the page size.
constexpr db::statement statement_entries{"history.statement", R"sql(
SELECT e.id, rfc3339(e.created_at) AS created_at, e.kind, e.direction, e.balance_change AS amount,
       e.balance_after, e.held_after, e.counterparty_account_id, e.reference, e.metadata::text AS metadata
  FROM account_entries e
 WHERE e.account_id = $1
   AND e.created_at >= coalesce($2::timestamptz, '-infinity')
   AND e.created_at <= coalesce($3::timestamptz, now())
   AND (e.created_at, e.id) > (coalesce((SELECT t.created_at FROM transfers t WHERE t.id = $4),
                                        CASE WHEN $4::bigint IS NULL THEN '-infinity'::timestamptz END),
                               coalesce($4, 0))
   AND e.balance_change <> 0
 ORDER BY e.created_at, e.id
 LIMIT $5
)sql"};

error no_such_account(std::int64_t id) {
  return {errc::not_found, "account " + std::to_string(id) + " does not exist"};
}

// The account's owner and currency, or why the caller may not read it.
result<account_row> readable(const call& c, const db::query_result& r, std::int64_t account) {
  auto found = db::read_optional_row<account_row>(r);
  if (!found) return no_such_account(account);
  if (!c.caller.may_act_for(found->user_id)) return error{errc::forbidden, "not your account"};
  return std::move(*found);
}

}  // namespace

net::awaitable<result<history_page>> history_service::history(call& c, std::int64_t account, const history_query& q) {
  db::batch b;
  b.add(account_of, db::params{}.add(account).add_null());
  b.add(account_history, db::params{}
                             .add(account)
                             .add(q.before)
                             .add(q.from)
                             .add(q.to)
                             .add(q.direction)
                             .add(q.status)
                             .add(q.reference)
                             .add(q.metadata_key)
                             .add(q.metadata_value)
                             .add(q.limit + 1));  // one more tells whether another page follows
  auto done = co_await db_.query(c, b, "accounts.history");
  if (!done) co_return done.error();
  if (auto ok = readable(c, done->results[0], account); !ok) co_return ok.error();
  history_page page{db::read_rows<history_entry>(done->results[1]), std::nullopt};
  if (static_cast<std::int64_t>(page.entries.size()) > q.limit) {
    page.entries.pop_back();
    page.next_before = page.entries.back().id;
  }
  co_return page;
}

net::awaitable<result<balance_point>> history_service::balance_at(call& c, std::int64_t account,
                                                                  const std::optional<std::string>& at) {
  db::batch b;
  b.add(account_of, db::params{}.add(account).add(at));
  b.add(balance_at_instant, db::params{}.add(account).add(at));
  auto done = co_await db_.query(c, b, "accounts.balance_at");
  if (!done) co_return done.error();
  auto owner = readable(c, done->results[0], account);
  if (!owner) co_return owner.error();
  balance_point point{account, std::move(owner->currency), std::move(owner->at), 0, 0, std::nullopt};
  if (const auto last = db::read_optional_row<point_row>(done->results[1])) {
    point.balance = last->balance_after;
    point.held = last->held_after;
    point.last_transfer_id = last->id;
  }
  co_return point;
}

net::awaitable<result<bank::statement>> history_service::statement(call& c, std::int64_t account,
                                                                   const statement_query& q) {
  db::batch b;
  b.add(account_of, db::params{}.add(account).add(q.to));
  b.add(balance_before_instant, db::params{}.add(account).add(q.from));
  b.add(balance_at_instant, db::params{}.add(account).add(q.to));
  b.add(statement_entries, db::params{}.add(account).add(q.from).add(q.to).add(q.after).add(q.limit));
  // One snapshot: the closing balance agrees with the opening and the entries.
  const db::tx_frame snapshot{db::isolation::repeatable_read_read_only, true};
  auto done = co_await db_.query(c, b, "accounts.statement", effect::read, snapshot);
  if (!done) co_return done.error();
  auto owner = readable(c, done->results[0], account);
  if (!owner) co_return owner.error();
  bank::statement out;
  out.account_id = account;
  out.currency = std::move(owner->currency);
  out.from = q.from;
  out.to = std::move(owner->at);
  if (const auto opening = db::read_optional_row<point_row>(done->results[1])) {
    out.opening_balance = opening->balance_after;
    out.opening_held = opening->held_after;
  }
  if (const auto closing = db::read_optional_row<point_row>(done->results[2])) {
    out.closing_balance = closing->balance_after;
    out.closing_held = closing->held_after;
  }
  out.entries = db::read_rows<statement_entry>(done->results[3]);
  if (static_cast<std::int64_t>(out.entries.size()) == q.limit) out.next_after = out.entries.back().id;
  co_return out;
}

}  // namespace bankd::bank
