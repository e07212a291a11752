#pragma once
// Accounts: opened by a user (or the operator for a user) in one currency,
// read by their owner, closed only when empty; each account's history.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

struct history_page {
  std::vector<history_entry> entries;   // newest first
  std::optional<std::int64_t> next_before;  // pass as `before` for the next page; none on the last
};

struct history_query {
  std::int64_t before = std::numeric_limits<std::int64_t>::max();  // transfer ids below this
  std::int64_t limit = 50;
};

class account_service {
public:
  explicit account_service(store& db) : db_(db) {}

  // The currency's funding account is created with its first customer account.
  boost::asio::awaitable<result<account>> open(call& c, std::int64_t owner, const std::string& currency);
  boost::asio::awaitable<result<account>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<std::vector<account>>> of_user(call& c, std::int64_t user_id);
  // Closing a closed account succeeds again; a non-empty one is balance_not_zero.
  boost::asio::awaitable<result<void>> close(call& c, std::int64_t id);
  boost::asio::awaitable<result<history_page>> history(call& c, std::int64_t id, history_query q);

private:
  store& db_;
};

}  // namespace bankd::bank
