#pragma once
// The event feed: what changed, in commit order (migration 014 writes the
// events, in the transaction of each change, with ids in commit order). A
// consumer keeps the id of the last event it handled and asks for what came
// after; it sees every event exactly once.
//
// The operator reads every event; a user reads the events about itself and
// its accounts. One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

struct event_record {
  std::int64_t id = 0;
  std::string type;
  std::string occurred_at;
  std::string data;  // a JSON object
};
BOOST_DESCRIBE_STRUCT(event_record, (), (id, type, occurred_at, data))

struct event_query {
  std::int64_t after = 0;  // the last event id the consumer handled; 0: from the start
  std::int64_t limit = 100;
  std::chrono::milliseconds wait{0};  // how long to wait for an event when none is there yet
};

struct event_page {
  std::vector<event_record> events;
  // Pass as `after` next time. Past the last event shown, or past events of
  // others that were looked at and skipped: never before an event not shown.
  std::int64_t next_after = 0;
};

class event_feed {
 public:
  explicit event_feed(store& db) : db_(db) {}

  // The events after q.after, waiting up to q.wait (within the call's
  // deadline) for the first one. Events are durable when answered: a batch
  // becomes visible to readers a moment before its commit is on disk, so a
  // page with events is answered only after a flush barrier.
  boost::asio::awaitable<result<event_page>> read(call& c, const event_query& q);

 private:
  boost::asio::awaitable<result<event_page>> read_once(call& c, const event_query& q);

  store& db_;
};

}  // namespace bankd::bank
