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
  std::int64_t held = 0;                // reserved by open holds; available = balance - held
  std::optional<std::string> metadata;  // a JSON object, as text
  std::string created_at;
  std::optional<std::string> closed_at;  // set once closed
  std::optional<std::string> frozen_at;  // set while an operator has frozen the account
};
BOOST_DESCRIBE_STRUCT(account, (), (id, user_id, currency, balance, held, metadata, created_at, closed_at,
                                    frozen_at))

// What a creating request with an Idempotency-Key got: the resource, and
// whether an earlier request with the same key made it.
template <class T>
struct created {
  T value;
  bool replayed = false;
};

// A ledger row as transfer_views (migration 010) shows it. `kind` is
// transfer, deposit, pending, post, void, expire or reverse; `status` is
// pending, posted, voided or expired. The optional members are set for the
// kinds they concern (see the view).
struct transfer {
  std::int64_t id = 0;
  std::string kind;
  std::string status;
  std::int64_t from_account_id = 0;
  std::int64_t to_account_id = 0;
  std::string currency;
  std::int64_t amount = 0;
  std::optional<std::string> reference;
  std::optional<std::string> metadata;  // a JSON object, as text
  std::string created_at;
  std::optional<std::string> expires_at;
  std::optional<std::int64_t> pending_id;
  std::optional<std::int64_t> reverses_transfer_id;
  std::optional<std::int64_t> held_amount;
  std::optional<std::int64_t> posted_amount;
  std::optional<std::int64_t> settled_by;
  std::optional<std::string> settled_at;
  std::optional<std::int64_t> reversed_amount;
  std::optional<std::string> reversals;  // a JSON array of the reversing rows' ids
};
BOOST_DESCRIBE_STRUCT(transfer, (), (id, kind, status, from_account_id, to_account_id, currency, amount,
                                     reference, metadata, created_at, expires_at, pending_id,
                                     reverses_transfer_id, held_amount, posted_amount, settled_by, settled_at,
                                     reversed_amount, reversals))

// A transfer as one account's history shows it: the account's side of it.
struct history_entry : transfer {
  std::string direction;        // debit or credit
  std::int64_t balance_after = 0;  // the account's, right after this row
  std::int64_t held_after = 0;
  std::int64_t counterparty_account_id = 0;
  std::int64_t counterparty_user_id = 0;
  std::string counterparty_name;
};
BOOST_DESCRIBE_STRUCT(history_entry, (transfer), (direction, balance_after, held_after, counterparty_account_id,
                                                  counterparty_user_id, counterparty_name))

}  // namespace bankd::bank
