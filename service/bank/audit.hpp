#pragma once
// The money supply in one snapshot: balances of many accounts and the totals
// of every currency, read in one REPEATABLE READ READ ONLY transaction, so
// concurrent transfers can never make the sums look wrong. Operator only (the
// caller checks).
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bankd::bank {

inline constexpr std::size_t max_audited_accounts = 10'000;

struct audited_account {
  std::int64_t id = 0;
  std::string currency;
  std::int64_t balance = 0;
  std::string kind;  // customer or funding
};
BOOST_DESCRIBE_STRUCT(audited_account, (), (id, currency, balance, kind))

// Sums are PostgreSQL numerics, kept as their decimal text: the customers of
// a currency together may hold 2^63, one more than an int64 holds.
struct currency_total {
  std::string currency;
  std::string customer_total;
  std::int64_t funding_balance = 0;
  std::string sum;
  std::int64_t customer_accounts = 0;
};
BOOST_DESCRIBE_STRUCT(currency_total, (), (currency, customer_total, funding_balance, sum,
                                           customer_accounts))

struct audit_snapshot {
  std::vector<audited_account> accounts;  // of the ids asked for that exist, by id
  std::vector<currency_total> totals;     // every currency, by code
};

class audit_service {
public:
  explicit audit_service(store& db) : db_(db) {}

  boost::asio::awaitable<result<audit_snapshot>> balances(call& c, const std::vector<std::int64_t>& ids);

private:
  store& db_;
};

}  // namespace bankd::bank
