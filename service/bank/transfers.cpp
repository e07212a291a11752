#include "bank/transfers.hpp"

#include "db/rows.hpp"

#include <algorithm>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

// $1 from, $2 to, $3 amount, $4 currency or NULL, $5 required owner of the
// debited account or NULL (operator), $6 initiator, $7 idempotency key,
// $8 reference. A refusal leaves a NULL in a NOT NULL ledger column (or trips
// the balance CHECK, or the key's UNIQUE), failing the whole statement.
//
// Both balances change in one UPDATE so that the two rows are locked in one
// scan, in the same order by every transfer: A->B and B->A cannot deadlock.
constexpr db::statement transfer_statement{"bank.transfer", R"sql(
WITH moved AS (
  UPDATE accounts SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END
   WHERE id IN ($1, $2) AND closed_at IS NULL
     AND currency = (SELECT currency FROM accounts WHERE id = $1 AND ($4::text IS NULL OR currency = $4))
     AND (id = $2 OR $5::bigint IS NULL OR user_id = $5)
  RETURNING id, currency)
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by,
                       idempotency_key, reference)
SELECT (SELECT id FROM moved WHERE id = $1), (SELECT id FROM moved WHERE id = $2),
       (SELECT currency FROM moved WHERE id = $1), $3, $6, $7, $8
RETURNING id, from_account_id, to_account_id, currency, amount, reference,
          rfc3339(created_at) AS created_at
)sql"};

// $1 to, $2 amount, $3 currency or NULL, $4 idempotency key, $5 reference.
// The funding account of the target's currency pays (and may go negative).
constexpr db::statement deposit_statement{"bank.deposit", R"sql(
WITH target AS (
  SELECT currency FROM accounts
   WHERE id = $1 AND kind = 'customer' AND closed_at IS NULL
     AND ($3::text IS NULL OR currency = $3)),
debit AS (
  UPDATE accounts SET balance = balance - $2
   WHERE kind = 'funding' AND currency = (SELECT currency FROM target)
  RETURNING id, currency),
credit AS (
  UPDATE accounts SET balance = balance + $2
   WHERE id = $1 AND currency = (SELECT currency FROM debit)
  RETURNING id)
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by,
                       idempotency_key, reference)
SELECT (SELECT id FROM debit), (SELECT id FROM credit), (SELECT currency FROM debit),
       $2, 0, $4, $5
RETURNING id, from_account_id, to_account_id, currency, amount, reference,
          rfc3339(created_at) AS created_at
)sql"};

constexpr db::statement transfer_by_key{"bank.transfer_by_key", R"sql(
SELECT id, from_account_id, to_account_id, currency, amount, reference,
       rfc3339(created_at) AS created_at
  FROM transfers WHERE initiated_by = $1 AND idempotency_key = $2
)sql"};

constexpr db::statement transfer_parties{"bank.transfer_parties", R"sql(
SELECT id, user_id, currency, kind = 'funding' AS funding, closed_at IS NOT NULL AS closed
  FROM accounts WHERE id = $1 OR id = $2
)sql"};

constexpr db::statement select_transfer{"transfers.select", R"sql(
SELECT t.id, t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
       rfc3339(t.created_at) AS created_at, f.user_id AS from_user_id, d.user_id AS to_user_id
  FROM transfers t JOIN accounts f ON f.id = t.from_account_id JOIN accounts d ON d.id = t.to_account_id
 WHERE t.id = $1
)sql"};

struct party {
  std::int64_t id;
  std::int64_t user_id;
  std::string currency;
  bool funding;
  bool closed;
};
BOOST_DESCRIBE_STRUCT(party, (), (id, user_id, currency, funding, closed))

struct owned_transfer : transfer {
  std::int64_t from_user_id = 0;
  std::int64_t to_user_id = 0;
};
BOOST_DESCRIBE_STRUCT(owned_transfer, (transfer), (from_user_id, to_user_id))

std::optional<party> find_party(const std::vector<party>& parties, std::int64_t id) {
  const auto it = std::find_if(parties.begin(), parties.end(), [&](const party& p) { return p.id == id; });
  return it == parties.end() ? std::nullopt : std::optional<party>(*it);
}

bool same_request(const transfer& done, const transfer_request& req, bool deposit) {
  return (deposit || done.from_account_id == req.from_account_id) &&
         done.to_account_id == req.to_account_id && done.amount == req.amount &&
         (!req.currency || *req.currency == done.currency) && done.reference == req.reference;
}

bool is_refusal(const db::error& e) {
  using db::errc;
  return e.code == errc::check_violation || e.code == errc::not_null_violation ||
         e.code == errc::unique_violation || e.code == errc::foreign_key_violation ||
         e.code == errc::numeric_out_of_range;
}

std::string account_text(std::int64_t id) { return "account " + std::to_string(id); }

// Why a transfer that was not a replay failed, from the accounts it named.
error refusal_reason(const identity& caller, const transfer_request& req, bool deposit,
                     const std::optional<party>& from, const std::optional<party>& to) {
  const auto missing = [](std::int64_t id) {
    return error{errc::account_not_found, account_text(id) + " does not exist"};
  };
  if (!deposit) {
    if (!from) return missing(req.from_account_id);
    if (!caller.may_act_for(from->user_id))
      return {errc::forbidden, account_text(req.from_account_id) + " belongs to another user"};
  }
  if (!to) return missing(req.to_account_id);
  if (deposit && to->funding) return {errc::invalid, "deposits go to customer accounts"};
  if ((from && from->closed) || to->closed)
    return {errc::account_closed, "a closed account cannot send or receive money"};
  const auto& currency = deposit ? to->currency : from->currency;
  if ((req.currency && *req.currency != currency) || (from && from->currency != to->currency))
    return {errc::currency_mismatch, "the accounts and the transfer must have the same currency"};
  return {errc::transfer_refused, "the accounts changed during the transfer; retry"};
}

}  // namespace

net::awaitable<result<transfer_outcome>> transfer_service::transfer(call& c, const transfer_request& req) {
  if (req.from_account_id == req.to_account_id)
    co_return error{errc::same_account, "'from_account_id' and 'to_account_id' must differ"};
  db::params values;
  values.add(req.from_account_id).add(req.to_account_id).add(req.amount).add(req.currency);
  if (c.caller.is_operator) values.add_null();
  else values.add(c.caller.user_id);
  values.add(c.caller.user_id).add(req.idempotency_key).add(req.reference);
  co_return co_await move_money(c, req, kind::transfer, std::move(values));
}

net::awaitable<result<transfer_outcome>> transfer_service::deposit(call& c, const transfer_request& req) {
  db::params values;
  values.add(req.to_account_id).add(req.amount).add(req.currency).add(req.idempotency_key).add(req.reference);
  co_return co_await move_money(c, req, kind::deposit, std::move(values));
}

net::awaitable<result<transfer_outcome>> transfer_service::move_money(call& c, const transfer_request& req,
                                                                      kind what, db::params values) {
  const auto& stmt = what == kind::deposit ? deposit_statement : transfer_statement;
  const std::string_view operation = what == kind::deposit ? "deposit" : "transfer";
  auto done = co_await db_.transact(c, operation, [&](db::transaction& tx) -> net::awaitable<db::result<bank::transfer>> {
    db::batch b;
    b.add(stmt, values);
    auto sent = co_await tx.execute_and_commit(b);
    if (!sent) co_return sent.error();
    co_return db::read_row<bank::transfer>(sent->results[0]);
  });
  if (done) co_return transfer_outcome{std::move(*done), false};
  co_return co_await explain_failure(c, req, done.error(), what);
}

net::awaitable<result<transfer_outcome>> transfer_service::explain_failure(
    call& c, const transfer_request& req, const db::error& failure, kind what) {
  const bool deposit = what == kind::deposit;
  if (!is_refusal(failure)) co_return from_db(failure, deposit ? "deposit" : "transfer", effect::write);
  const identity initiator = deposit ? identity{operator_user_id, true} : c.caller;
  db::batch look;
  look.add(transfer_by_key, db::params{}.add(initiator.user_id).add(req.idempotency_key));
  look.add(transfer_parties, db::params{}.add(deposit ? req.to_account_id : req.from_account_id)
                                         .add(req.to_account_id));
  auto found = co_await db_.query(c, look, "transfer.explain");
  if (!found) co_return found.error();

  if (auto earlier = db::read_optional_row<bank::transfer>(found->results[0])) {
    if (!same_request(*earlier, req, deposit))
      co_return error{errc::idempotency_key_reused, "this Idempotency-Key was used for a different request"};
    co_return transfer_outcome{std::move(*earlier), true};
  }
  if (failure.code == db::errc::check_violation && failure.constraint == "accounts_balance_non_negative")
    co_return error{errc::insufficient_funds, account_text(req.from_account_id) + " has insufficient funds"};
  if (failure.code == db::errc::numeric_out_of_range)
    co_return error{errc::invalid, "the credited balance would overflow"};
  const auto parties = db::read_rows<party>(found->results[1]);
  co_return refusal_reason(initiator, req, deposit, deposit ? std::nullopt : find_party(parties, req.from_account_id),
                           find_party(parties, req.to_account_id));
}

net::awaitable<result<bank::transfer>> transfer_service::get(call& c, std::int64_t id) {
  db::batch b;
  b.add(select_transfer, db::params{}.add(id));
  auto done = co_await db_.query(c, b, "transfers.get");
  if (!done) co_return done.error();
  auto found = db::read_optional_row<owned_transfer>(done->results[0]);
  if (!found) co_return error{errc::not_found, "transfer " + std::to_string(id) + " does not exist"};
  if (!c.caller.may_act_for(found->from_user_id) && !c.caller.may_act_for(found->to_user_id))
    co_return error{errc::forbidden, "not your transfer"};
  co_return static_cast<bank::transfer>(*found);
}

}  // namespace bankd::bank
