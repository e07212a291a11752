#pragma once
// An account's past, read from its ledger entries (account_entries,
// migration 010): the history page, the balance at an instant and
// statements. Every ledger row records each side's balance and held after
// it, so each of these is a walk of one account's entries by (created_at,
// id) in the two entry indexes, from a known point: its cost depends on the
// page, never on the size of the ledger.
//
// Readable by the account's owner and the operator. Times are RFC 3339
// texts, checked by the caller.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

struct history_query {
  std::optional<std::int64_t> before;  // entries older than this transfer's (keyset)
  std::int64_t limit = 50;
  std::optional<std::string> from, to;        // created_at within [from, to]
  std::optional<std::string> direction;       // debit | credit
  std::optional<std::string> status;          // pending | posted | voided | expired
  std::optional<std::string> reference;
  std::optional<std::string> metadata_key;    // with metadata_value: entries whose
  std::optional<std::string> metadata_value;  // metadata has this key and value
};

struct history_page {
  std::vector<history_entry> entries;       // newest first
  std::optional<std::int64_t> next_before;  // pass as `before` for the next page; none on the last
};

// An account's balance and held right after every row up to an instant.
struct balance_point {
  std::int64_t account_id = 0;
  std::string currency;
  std::string at;
  std::int64_t balance = 0;
  std::int64_t held = 0;
  std::optional<std::int64_t> last_transfer_id;  // the latest row up to `at`; none: nothing yet
};

// One entry of a statement: a row that changed the account's balance.
struct statement_entry {
  std::int64_t id = 0;
  std::string created_at;
  std::string kind;
  std::string direction;
  std::int64_t amount = 0;  // signed: what it did to the balance
  std::int64_t balance_after = 0;
  std::int64_t held_after = 0;
  std::int64_t counterparty_account_id = 0;
  std::optional<std::string> reference;
  std::optional<std::string> metadata;
};
BOOST_DESCRIBE_STRUCT(statement_entry, (), (id, created_at, kind, direction, amount, balance_after, held_after,
                                            counterparty_account_id, reference, metadata))

struct statement_query {
  std::optional<std::string> from;  // none: since the account's first entry
  std::optional<std::string> to;    // none: now
  std::optional<std::int64_t> after;  // entries after this transfer's (keyset)
  std::int64_t limit = 100;
};

// The entries with from <= created_at <= to, oldest first, one page of
// them; opening: the balance just before `from`; closing: at `to`, so
// closing = opening + the amounts of every page's entries.
struct statement {
  std::int64_t account_id = 0;
  std::string currency;
  std::optional<std::string> from;
  std::string to;  // as resolved: pass it again for the next pages
  std::int64_t opening_balance = 0, opening_held = 0;
  std::int64_t closing_balance = 0, closing_held = 0;
  std::vector<statement_entry> entries;
  std::optional<std::int64_t> next_after;  // pass as `after` for the next page; none on the last
};

class history_service {
public:
  explicit history_service(store& db) : db_(db) {}

  boost::asio::awaitable<result<history_page>> history(call& c, std::int64_t account, const history_query& q);
  // `at`: none for now.
  boost::asio::awaitable<result<balance_point>> balance_at(call& c, std::int64_t account,
                                                           const std::optional<std::string>& at);
  boost::asio::awaitable<result<bank::statement>> statement(call& c, std::int64_t account, const statement_query& q);

private:
  store& db_;
};

}  // namespace bankd::bank
