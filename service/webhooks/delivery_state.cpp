#include "webhooks/delivery_state.hpp"

#include "db/pipeline.hpp"
#include "db/rows.hpp"

namespace bankd::webhooks {
namespace net = boost::asio;

namespace {

// $1 one endpoint, or NULL for all of them; deleted ones are never read.
constexpr db::statement live_endpoints{"webhooks.delivery.endpoints", R"sql(
SELECT id, url, event_types::text AS event_types, secret,
       CASE WHEN previous_secret_expires_at > now() THEN previous_secret END AS previous_secret, status,
       delivered_through, consecutive_failures::bigint AS consecutive_failures,
       COALESCE(GREATEST(0, ceil(extract(epoch FROM next_attempt_at - now()) * 1000)), 0)::bigint AS retry_in_ms
  FROM webhook_endpoints WHERE deleted_at IS NULL AND ($1::bigint IS NULL OR id = $1) ORDER BY id
)sql"};

// $1 cursor, $2 event types ('*': all), $3 how many to look at. Always one
// row; with no event of the types, its event columns are NULL.
constexpr db::statement events_after{"webhooks.delivery.events", R"sql(
WITH scanned AS (SELECT id, type, occurred_at, data FROM events WHERE id > $1 ORDER BY id LIMIT $3)
SELECT s.id,
       jsonb_build_object('id', s.id, 'type', s.type, 'occurred_at', rfc3339(s.occurred_at), 'data', s.data)::text
           AS body,
       (SELECT max(id) FROM scanned) AS scanned_to
  FROM (VALUES (1)) one (x)
  LEFT JOIN scanned s ON '*' = ANY ($2::text[]) OR s.type = ANY ($2::text[])
 ORDER BY s.id
)sql"};

constexpr db::statement advance_cursor{"webhooks.delivery.advance", R"sql(
UPDATE webhook_endpoints
   SET delivered_through = $2, consecutive_failures = 0, failing_since = NULL, next_attempt_at = NULL
 WHERE id = $1 AND delivered_through < $2 AND deleted_at IS NULL
)sql"};

// $2 the retry delay and $4 how long an endpoint may fail before it is
// disabled, in milliseconds; $3 what went wrong.
constexpr db::statement failed_attempt{"webhooks.delivery.failed", R"sql(
UPDATE webhook_endpoints w
   SET consecutive_failures = w.consecutive_failures + 1,
       failing_since = COALESCE(w.failing_since, now()),
       last_error = left($3, 200),
       status = CASE WHEN g.give_up THEN 'disabled' ELSE 'enabled' END,
       disabled_at = CASE WHEN g.give_up THEN now() END,
       next_attempt_at = CASE WHEN g.give_up THEN NULL ELSE now() + $2 * interval '1 millisecond' END
  FROM (SELECT now() - COALESCE(failing_since, now()) >= $4 * interval '1 millisecond' AS give_up
          FROM webhook_endpoints WHERE id = $1) g
 WHERE w.id = $1 AND w.deleted_at IS NULL AND w.status = 'enabled'
RETURNING w.status = 'disabled' AS disabled
)sql"};

constexpr db::statement delivery_lag{"webhooks.delivery.lag", R"sql(
SELECT COALESCE(max((SELECT (extract(epoch FROM now() - e.occurred_at) * 1000)::bigint
                       FROM events e WHERE e.id > w.delivered_through ORDER BY e.id LIMIT 1)), 0) AS lag_ms
  FROM webhook_endpoints w WHERE w.status = 'enabled' AND w.deleted_at IS NULL
)sql"};

struct event_row {
  std::optional<std::int64_t> id;
  std::optional<std::string> body;
  std::optional<std::int64_t> scanned_to;
};
BOOST_DESCRIBE_STRUCT(event_row, (), (id, body, scanned_to))

struct disabled_row {
  bool disabled = false;
};
BOOST_DESCRIBE_STRUCT(disabled_row, (), (disabled))

struct lag_row {
  std::int64_t lag_ms = 0;
};
BOOST_DESCRIBE_STRUCT(lag_row, (), (lag_ms))

}  // namespace

net::awaitable<db::result<db::batch_result>> delivery_state::run(const db::batch& b) {
  const auto deadline = db::clock::now() + timeout_;
  auto lease = co_await pool_.acquire(deadline);
  if (!lease) co_return lease.error();
  co_return co_await (*lease)->execute(b, {}, deadline);
}

net::awaitable<db::result<std::vector<endpoint_row>>> delivery_state::endpoints() {
  db::batch b;
  b.add(live_endpoints, db::params{}.add_null());
  auto done = co_await run(b);
  if (!done) co_return done.error();
  co_return db::read_rows<endpoint_row>(done->results[0]);
}

net::awaitable<db::result<std::optional<endpoint_row>>> delivery_state::enabled_endpoint(std::int64_t id) {
  db::batch b;
  b.add(live_endpoints, db::params{}.add(id));
  auto done = co_await run(b);
  if (!done) co_return done.error();
  auto found = db::read_optional_row<endpoint_row>(done->results[0]);
  if (found && found->status != "enabled") found.reset();
  co_return found;
}

net::awaitable<db::result<event_batch>> delivery_state::next_events(const endpoint_row& e, std::int64_t limit) {
  db::batch b;
  b.add(events_after, db::params{}.add(e.delivered_through).add(e.event_types).add(limit));
  auto done = co_await run(b);
  if (!done) co_return done.error();
  event_batch out;
  for (auto& row : db::read_rows<event_row>(done->results[0])) {
    if (row.scanned_to) out.scanned_to = *row.scanned_to;
    if (row.id) out.events.push_back({*row.id, std::move(*row.body)});
  }
  if (!out.events.empty()) {
    // An engine batch is visible a moment before its commit is on disk: an
    // event is sent only once it cannot be lost in a crash.
    db::batch barrier;
    barrier.add(db::flush_barrier);
    auto flushed = co_await run(barrier);
    if (!flushed) co_return flushed.error();
  }
  co_return out;
}

net::awaitable<db::result<void>> delivery_state::advance(std::int64_t endpoint, std::int64_t event_id) {
  db::batch b;
  b.add(advance_cursor, db::params{}.add(endpoint).add(event_id));
  auto done = co_await run(b);
  if (!done) co_return done.error();
  co_return db::result<void>{};
}

net::awaitable<db::result<bool>> delivery_state::record_failure(std::int64_t endpoint, const std::string& failure,
                                                                std::chrono::milliseconds retry_in,
                                                                std::chrono::milliseconds give_up_after) {
  db::batch b;
  b.add(failed_attempt, db::params{}.add(endpoint).add(static_cast<std::int64_t>(retry_in.count())).add(failure).add(
                            static_cast<std::int64_t>(give_up_after.count())));
  auto done = co_await run(b);
  if (!done) co_return done.error();
  const auto row = db::read_optional_row<disabled_row>(done->results[0]);
  co_return row && row->disabled;
}

net::awaitable<db::result<double>> delivery_state::lag_seconds() {
  db::batch b;
  b.add(delivery_lag);
  auto done = co_await run(b);
  if (!done) co_return done.error();
  co_return static_cast<double>(db::read_row<lag_row>(done->results[0]).lag_ms) / 1000.0;
}

}  // namespace bankd::webhooks
