#include "bank/events.hpp"

#include "db/pipeline.hpp"
#include "db/rows.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// A user's feed skips the events of others; it looks at no more than this
// many per request, so that its cost does not grow with the feed.
constexpr std::int64_t max_scanned = 10'000;
constexpr auto poll_interval = std::chrono::milliseconds(200);
// What a waiting read leaves of the request's budget for its last round trips.
constexpr auto answer_margin = std::chrono::milliseconds(500);

// $1 after, $2 the user (NULL: the operator, every event), $3 the page size,
// $4 how many events to look at. One statement, one snapshot: the page and
// how far it looked agree. Always one row; with no event to show, its event
// columns are NULL.
constexpr db::statement events_page{"events.page", R"sql(
WITH scanned AS (
    SELECT id, type, occurred_at, data, user_ids FROM events WHERE id > $1 ORDER BY id LIMIT $4),
shown AS (
    SELECT * FROM scanned WHERE $2::bigint IS NULL OR $2 = ANY (user_ids) ORDER BY id LIMIT $3)
SELECT s.id, s.type, rfc3339(s.occurred_at) AS occurred_at, s.data::text AS data,
       (SELECT max(id) FROM scanned) AS scanned_to
  FROM (VALUES (1)) one (x) LEFT JOIN shown s ON true
 ORDER BY s.id
)sql"};

struct page_row {
  std::optional<std::int64_t> id;
  std::optional<std::string> type;
  std::optional<std::string> occurred_at;
  std::optional<std::string> data;
  std::optional<std::int64_t> scanned_to;
};
BOOST_DESCRIBE_STRUCT(page_row, (), (id, type, occurred_at, data, scanned_to))

}  // namespace

net::awaitable<result<event_page>> event_feed::read_once(call& c, const event_query& q) {
  const std::optional<std::int64_t> user =
      c.caller.is_operator ? std::nullopt : std::optional<std::int64_t>{c.caller.user_id};
  db::batch b;
  b.add(events_page, db::params{}.add(q.after).add(user).add(q.limit).add(user ? max_scanned : q.limit));
  auto done = co_await db_.query(c, b, "events.read");
  if (!done) co_return done.error();
  event_page page{{}, q.after};
  for (auto& row : db::read_rows<page_row>(done->results[0])) {
    if (row.scanned_to) page.next_after = *row.scanned_to;
    if (row.id) page.events.push_back({*row.id, std::move(*row.type), std::move(*row.occurred_at),
                                       std::move(*row.data)});
  }
  // A full page may stop before the end of what was looked at.
  if (static_cast<std::int64_t>(page.events.size()) == q.limit) page.next_after = page.events.back().id;
  if (!page.events.empty()) {
    db::batch barrier;
    barrier.add(db::flush_barrier, db::params{});
    auto flushed = co_await db_.query(c, barrier, "events.flush", effect::write);
    if (!flushed) co_return flushed.error();
  }
  co_return page;
}

net::awaitable<result<event_page>> event_feed::read(call& c, const event_query& q) {
  const auto until = std::min(db::clock::now() + q.wait, c.deadline - answer_margin);
  net::steady_timer timer(co_await net::this_coro::executor);
  event_query next = q;
  for (;;) {
    auto page = co_await read_once(c, next);
    if (!page || !page->events.empty() || db::clock::now() + poll_interval >= until) co_return page;
    next.after = page->next_after;  // past others' events already looked at
    timer.expires_after(poll_interval);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) co_return page;  // cancelled (shutdown): what there is, which is nothing yet
  }
}

}  // namespace bankd::bank
