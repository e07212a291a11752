#pragma once
// What webhook delivery reads and records in the database: the endpoints,
// the next events for one, and the endpoint's cursor and failures.
//
// The writes are single-row UPDATEs outside SERIALIZABLE. That is safe here:
// only the delivering process writes these columns (the API writes the
// others, and status only to re-enable), each UPDATE re-checks its WHERE on
// the newest row version under the row lock, the cursor only moves forward,
// and no money or ledger row is involved.
//
// One per delivering process, on one io_context thread; not thread-safe.

#include "db/error.hpp"
#include "db/pool.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::webhooks {

struct endpoint_row {
  std::int64_t id = 0;
  std::string url;
  std::string event_types;  // an array literal, for the events query
  std::string secret;
  std::optional<std::string> previous_secret;  // while it still signs
  std::string status;
  std::int64_t delivered_through = 0;
  std::int64_t consecutive_failures = 0;
  std::int64_t retry_in_ms = 0;  // until next_attempt_at; 0 when due or not failing
};
BOOST_DESCRIBE_STRUCT(endpoint_row, (), (id, url, event_types, secret, previous_secret, status, delivered_through,
                                         consecutive_failures, retry_in_ms))

struct pending_event {
  std::int64_t id = 0;
  std::string body;  // the event as GET /events shows it
};

struct event_batch {
  std::vector<pending_event> events;  // of the endpoint's types, in id order
  std::int64_t scanned_to = 0;        // the last event id looked at (0: none)
};

class delivery_state {
 public:
  delivery_state(db::connection_pool& pool, std::chrono::milliseconds timeout) : pool_(pool), timeout_(timeout) {}

  // Every endpoint not deleted.
  boost::asio::awaitable<db::result<std::vector<endpoint_row>>> endpoints();
  // One endpoint, while it is enabled and not deleted.
  boost::asio::awaitable<db::result<std::optional<endpoint_row>>> enabled_endpoint(std::int64_t id);
  // The next events after `cursor`, at most `limit` looked at. The events
  // are durable when returned (after a flush barrier).
  boost::asio::awaitable<db::result<event_batch>> next_events(const endpoint_row& e, std::int64_t limit);
  // Delivery got to `event_id` (acknowledged, or past events of other types).
  boost::asio::awaitable<db::result<void>> advance(std::int64_t endpoint, std::int64_t event_id);
  // A failed attempt; true when it disabled the endpoint (failing for
  // `give_up_after` already).
  boost::asio::awaitable<db::result<bool>> record_failure(std::int64_t endpoint, const std::string& failure,
                                                          std::chrono::milliseconds retry_in,
                                                          std::chrono::milliseconds give_up_after);
  // Seconds since the oldest event an enabled endpoint has not had yet.
  boost::asio::awaitable<db::result<double>> lag_seconds();

 private:
  boost::asio::awaitable<db::result<db::batch_result>> run(const db::batch& b);

  db::connection_pool& pool_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bankd::webhooks
