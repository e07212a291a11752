#pragma once
// Accounts: opened by a user (or the operator for a user) in an allowed
// currency, up to a number of open accounts per user; read by their owner,
// closed only when empty, frozen by the operator. Their history and
// statements are history.hpp's.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/creation.hpp"
#include "bank/currencies.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

struct account_page {
  std::vector<account> accounts;           // by id
  std::optional<std::int64_t> next_after;  // pass as `after` for the next page; none on the last
};

struct account_query {
  std::int64_t after = 0;  // account ids above this
  std::int64_t limit = 1000;
};

struct account_rules {
  const currency_list* currencies = nullptr;  // null: any well-formed code
  std::size_t max_open_per_user = 100;
};
class account_service {
public:
  account_service(store& db, account_rules rules) : db_(db), rules_(rules) {}

  // The currency's funding account is created with its first customer
  // account. `metadata`: a JSON object (text), checked by the caller. With an
  // Idempotency-Key, a replay returns the account made the first time.
  boost::asio::awaitable<result<created<account>>> open(call& c, std::int64_t owner, const std::string& currency,
                                                        const std::optional<std::string>& metadata = {},
                                                        std::optional<std::string> idempotency_key = {});
  boost::asio::awaitable<result<account>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<account_page>> of_user(call& c, std::int64_t user_id, account_query q);
  // Closing a closed account succeeds again; a non-empty one is balance_not_zero.
  boost::asio::awaitable<result<void>> close(call& c, std::int64_t id);
  // Operator only. Freezing a frozen account keeps the time it was first frozen.
  boost::asio::awaitable<result<account>> set_frozen(call& c, std::int64_t id, bool frozen);

private:
  boost::asio::awaitable<result<created<account>>> replay(call& c, const creation_key& key, const db::error& failure);

  store& db_;
  account_rules rules_;
};

}  // namespace bankd::bank
