#pragma once
// What the domain hands out: users, accounts, transfers, as plain values.
// Each is also the row shape of the statements that read it (Boost.Describe
// names the columns; see db/rows.hpp), so a column added to a SELECT without
// a member here fails the first test that runs it.

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bankd::bank {

struct user {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string created_at;  // RFC 3339, UTC
  std::optional<std::string> frozen_at;  // set while an operator has frozen the user
};
BOOST_DESCRIBE_STRUCT(user, (), (id, name, email, created_at, frozen_at))

struct account {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string currency;
  std::int64_t balance = 0;
  std::string created_at;
  std::optional<std::string> closed_at;  // set once closed
  std::optional<std::string> frozen_at;  // set while an operator has frozen the account
};
BOOST_DESCRIBE_STRUCT(account, (), (id, user_id, currency, balance, created_at, closed_at, frozen_at))

// What a creating request with an Idempotency-Key got: the resource, and
// whether an earlier request with the same key made it.
template <class T>
struct created {
  T value;
  bool replayed = false;
};

struct transfer {
  std::int64_t id = 0;
  std::int64_t from_account_id = 0;
  std::int64_t to_account_id = 0;
  std::string currency;
  std::int64_t amount = 0;
  std::optional<std::string> reference;
  std::string created_at;
};
BOOST_DESCRIBE_STRUCT(transfer, (), (id, from_account_id, to_account_id, currency, amount, reference,
                                     created_at))

// A transfer as one account's history shows it.
struct history_entry : transfer {
  std::int64_t counterparty_account_id = 0;
  std::int64_t counterparty_user_id = 0;
  std::string counterparty_name;
};
BOOST_DESCRIBE_STRUCT(history_entry, (transfer), (counterparty_account_id, counterparty_user_id,
                                                  counterparty_name))

}  // namespace bankd::bank
