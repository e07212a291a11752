#include "bank/transfers.hpp"

#include "metrics/registry.hpp"

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
RETURNING id, from_account_id, to_account_id, currency, amount, reference, rfc3339(created_at)
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
RETURNING id, from_account_id, to_account_id, currency, amount, reference, rfc3339(created_at)
)sql"};

constexpr db::statement transfer_by_key{"bank.transfer_by_key", R"sql(
SELECT id, from_account_id, to_account_id, currency, amount, reference, rfc3339(created_at)
  FROM transfers WHERE initiated_by = $1 AND idempotency_key = $2
)sql"};

constexpr db::statement transfer_parties{"bank.transfer_parties", R"sql(
SELECT id, user_id, currency, kind, closed_at IS NOT NULL FROM accounts WHERE id = $1 OR id = $2
)sql"};

transfer_record read_record(const db::query_result& r) {
  transfer_record t;
  t.id = r.int64(0, 0);
  t.from_account_id = r.int64(0, 1);
  t.to_account_id = r.int64(0, 2);
  t.currency = std::string(r.text(0, 3));
  t.amount = r.int64(0, 4);
  if (auto ref = r.optional_text(0, 5)) t.reference = std::string(*ref);
  t.created_at = std::string(r.text(0, 6));
  return t;
}

struct party {
  std::int64_t user_id;
  std::string currency;
  bool funding;
  bool closed;
};

std::optional<party> find_party(const db::query_result& r, std::int64_t id) {
  for (int row = 0; row < r.rows(); ++row)
    if (r.int64(row, 0) == id)
      return party{r.int64(row, 1), std::string(r.text(row, 2)), r.text(row, 3) == "funding",
                   r.boolean(row, 4)};
  return std::nullopt;
}

bool same_request(const transfer_record& done, const transfer_request& req, bool deposit) {
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
api_error refusal_reason(const identity& caller, const transfer_request& req, bool deposit,
                         const std::optional<party>& from, const std::optional<party>& to) {
  const auto not_found_error = [](std::int64_t id) {
    return api_error{http::status::not_found, "account_not_found", account_text(id) + " does not exist"};
  };
  if (!deposit) {
    if (!from) return not_found_error(req.from_account_id);
    if (!caller.may_act_for(from->user_id))
      return forbidden(account_text(req.from_account_id) + " belongs to another user");
  }
  if (!to) return not_found_error(req.to_account_id);
  if (deposit && to->funding) return invalid("deposits go to customer accounts");
  if ((from && from->closed) || to->closed)
    return conflict("account_closed", "a closed account cannot send or receive money");
  const auto& currency = deposit ? to->currency : from->currency;
  if ((req.currency && *req.currency != currency) || (from && from->currency != to->currency))
    return {http::status::unprocessable_entity, "currency_mismatch",
            "the accounts and the transfer must have the same currency"};
  return conflict("transfer_refused", "the accounts changed during the transfer; retry");
}

}  // namespace

net::awaitable<outcome<transfer_outcome>> transfer_service::transfer(const identity& caller,
                                                                     const transfer_request& req) {
  db::params values;
  values.add(req.from_account_id).add(req.to_account_id).add(req.amount).add(req.currency);
  if (caller.is_operator) values.add_null();
  else values.add(caller.user_id);
  values.add(caller.user_id).add(req.idempotency_key).add(req.reference);

  auto run = co_await db::run_serializable(pool_, policy_, [&](db::transaction& tx) -> net::awaitable<db::result<transfer_record>> {
    db::batch b;
    b.add(transfer_statement, values);
    auto done = co_await tx.execute_and_commit(b);
    if (!done) co_return done.error();
    co_return read_record(done->results[0]);
  });
  last_attempts_ = run.attempts;
  if (run.value) {
    stats_.observe_transaction("transfer", "committed", run.attempts, run.attempts - 1);
    co_return transfer_outcome{std::move(*run.value), false};
  }
  const bool exhausted = db::is_retryable(run.value.error().code);
  stats_.observe_transaction("transfer", exhausted ? "retries_exhausted" : "refused", run.attempts,
                             exhausted ? run.attempts : run.attempts - 1);
  co_return co_await explain_failure(caller, req, run.value.error(), false);
}

net::awaitable<outcome<transfer_outcome>> transfer_service::deposit(const transfer_request& req) {
  db::params values;
  values.add(req.to_account_id).add(req.amount).add(req.currency).add(req.idempotency_key).add(req.reference);
  auto run = co_await db::run_serializable(pool_, policy_, [&](db::transaction& tx) -> net::awaitable<db::result<transfer_record>> {
    db::batch b;
    b.add(deposit_statement, values);
    auto done = co_await tx.execute_and_commit(b);
    if (!done) co_return done.error();
    co_return read_record(done->results[0]);
  });
  last_attempts_ = run.attempts;
  if (run.value) {
    stats_.observe_transaction("deposit", "committed", run.attempts, run.attempts - 1);
    co_return transfer_outcome{std::move(*run.value), false};
  }
  const bool exhausted = db::is_retryable(run.value.error().code);
  stats_.observe_transaction("deposit", exhausted ? "retries_exhausted" : "refused", run.attempts,
                             exhausted ? run.attempts : run.attempts - 1);
  co_return co_await explain_failure(identity{operator_user_id, true}, req, run.value.error(), true);
}

net::awaitable<outcome<transfer_outcome>> transfer_service::explain_failure(
    const identity& caller, const transfer_request& req, const db::error& failure, bool deposit) {
  if (!is_refusal(failure)) {
    auto e = from_db_error(failure, deposit ? "deposit" : "transfer");
    if (failure.code == db::errc::connection_lost || failure.code == db::errc::timeout)
      e.message = "the outcome is unknown; replay the request with the same Idempotency-Key";
    co_return e;
  }
  auto leased = co_await pool_.acquire();
  if (!leased) co_return from_db_error(leased.error(), "transfer.explain");
  db::batch look;
  look.add(transfer_by_key, db::params{}.add(caller.user_id).add(req.idempotency_key));
  look.add(transfer_parties, db::params{}.add(deposit ? req.to_account_id : req.from_account_id)
                                         .add(req.to_account_id));
  auto found = co_await (*leased)->execute(look, {}, leased->query_deadline());
  if (!found) co_return from_db_error(found.error(), "transfer.explain");

  if (found->results[0].rows() == 1) {
    auto done = read_record(found->results[0]);
    if (!same_request(done, req, deposit))
      co_return api_error{http::status::unprocessable_entity, "idempotency_key_reused",
                          "this Idempotency-Key was used for a different request"};
    co_return transfer_outcome{std::move(done), true};
  }
  if (failure.code == db::errc::check_violation && failure.constraint == "accounts_balance_non_negative")
    co_return conflict("insufficient_funds", account_text(req.from_account_id) + " has insufficient funds");
  if (failure.code == db::errc::numeric_out_of_range)
    co_return invalid("the credited balance would overflow");
  const auto& parties = found->results[1];
  co_return refusal_reason(caller, req, deposit,
                           deposit ? std::nullopt : find_party(parties, req.from_account_id),
                           find_party(parties, req.to_account_id));
}

}  // namespace bankd::bank
