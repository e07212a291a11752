#pragma once
// Accounts: opened by a user (or the operator for a user) in one currency,
// read by their owner, closed only when empty. Their history and statements
// are history.hpp's.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

class account_service {
public:
  explicit account_service(store& db) : db_(db) {}

  // The currency's funding account is created with its first customer
  // account. `metadata`: a JSON object (text), checked by the caller.
  boost::asio::awaitable<result<account>> open(call& c, std::int64_t owner, const std::string& currency,
                                               const std::optional<std::string>& metadata = {});
  boost::asio::awaitable<result<account>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<std::vector<account>>> of_user(call& c, std::int64_t user_id);
  // Closing a closed account succeeds again; a non-empty one is balance_not_zero.
  boost::asio::awaitable<result<void>> close(call& c, std::int64_t id);

private:
  store& db_;
};

}  // namespace bankd::bank
