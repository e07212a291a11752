#include "bank/engine.hpp"

#include "db/rows.hpp"
#include "util/log.hpp"
#include "util/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// The whole batch, one column per parameter (see migration 004).
constexpr db::statement apply_batch{"engine.apply_batch", R"sql(
SELECT ord, status, subject, id, from_account_id, to_account_id, currency, amount, reference,
       created_at, kind
  FROM bank_apply_batch($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                        $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::int[])
)sql"};

struct batch_row {
  std::int64_t ord = 0;
  std::string status;
  std::optional<std::int64_t> subject;
  std::optional<std::int64_t> id;
  std::optional<std::int64_t> from_account_id;
  std::optional<std::int64_t> to_account_id;
  std::optional<std::string> currency;
  std::optional<std::int64_t> amount;
  std::optional<std::string> reference;
  std::optional<std::string> created_at;
  std::optional<std::string> kind;
};
BOOST_DESCRIBE_STRUCT(batch_row, (), (ord, status, subject, id, from_account_id, to_account_id, currency,
                                      amount, reference, created_at, kind))

std::string account_text(std::optional<std::int64_t> id) {
  return "account " + (id ? std::to_string(*id) : std::string("?"));
}

// A refusal's status, as the domain says it.
error refusal(const batch_row& r) {
  const auto& s = r.status;
  if (s == "account_not_found") return {errc::account_not_found, account_text(r.subject) + " does not exist"};
  if (s == "forbidden") return {errc::forbidden, account_text(r.subject) + " belongs to another user"};
  if (s == "account_closed") return {errc::account_closed, "a closed account cannot send or receive money"};
  if (s == "account_frozen") return {errc::account_frozen, account_text(r.subject) + " is frozen"};
  if (s == "currency_mismatch")
    return {errc::currency_mismatch, "the accounts and the transfer must have the same currency"};
  if (s == "insufficient_funds") return {errc::insufficient_funds, account_text(r.subject) + " has insufficient funds"};
  if (s == "not_customer") return {errc::invalid, "deposits go to customer accounts"};
  if (s == "balance_overflow") return {errc::invalid, "the credited balance would overflow"};
  if (s == "idempotency_key_reused")
    return {errc::idempotency_key_reused, "this Idempotency-Key was used for a different request"};
  if (s == "batch_failed") return {errc::batch_failed, "another transfer of this atomic batch was refused"};
  if (s == "refused") return {errc::transfer_refused, "the transfer could not be applied; retry"};
  log::error("engine.unknown_status").kv("status", s);
  return {errc::internal, "internal error"};
}

result<movement_outcome> outcome_of(const batch_row& r) {
  if (r.status != "committed" && r.status != "replayed") return refusal(r);
  if (!r.id || !r.from_account_id || !r.to_account_id || !r.currency || !r.amount || !r.created_at) {
    log::error("engine.incomplete_row").kv("ord", r.ord).kv("status", r.status);
    return error{errc::internal, "internal error"};
  }
  return movement_outcome{transfer{*r.id, *r.from_account_id, *r.to_account_id, *r.currency, *r.amount,
                                   r.reference, *r.created_at},
                          r.status == "replayed"};
}

// The parameters of one batch: element i of every array is movement i.
struct batch_columns {
  db::array_literal kinds, from, to, amounts, currencies, owners, initiators, keys, refs, groups;

  void add(const movement& m, int group) {
    const bool deposit = m.what == movement::kind::deposit;
    kinds.add(std::string_view(deposit ? "deposit" : "transfer"));
    if (deposit) from.add_null();
    else from.add(m.from_account_id);
    to.add(m.to_account_id);
    amounts.add(m.amount);
    currencies.add(m.currency);
    owners.add(m.debit_owner);
    initiators.add(m.initiator);
    keys.add(std::string_view(m.idempotency_key));
    refs.add(m.reference);
    groups.add(std::int64_t{group});
  }
  db::params params() const {
    db::params p;
    for (const auto* column : {&kinds, &from, &to, &amounts, &currencies, &owners, &initiators, &keys, &refs, &groups})
      p.add(column->text());
    return p;
  }
};

}  // namespace

// One request's movements on their way through the queue.
struct submission {
  submission(const net::any_io_executor& ex, std::vector<movement> m, bool all_or_none,
             db::clock::time_point until)
      : items(std::move(m)), atomic(all_or_none), deadline(until), wake(ex) {}

  std::vector<movement> items;
  bool atomic;
  db::clock::time_point deadline;
  net::steady_timer wake;  // cancelled when the answers are in
  std::vector<result<movement_outcome>> results;
  int attempts = 0;
  bool sent = false;
  bool done = false;
};

class transfer_engine::impl : public std::enable_shared_from_this<impl> {
public:
  impl(store& db, engine_params params, engine_observer* observer)
      : db_(db), params_(params), observer_(observer) {}

  net::awaitable<std::vector<result<movement_outcome>>> submit(call& c, std::vector<movement> items, bool atomic);
  void stop();

private:
  using batch = std::vector<std::shared_ptr<submission>>;

  net::awaitable<void> drain(std::shared_ptr<impl> self);
  batch next_batch();
  net::awaitable<void> run_batch(const batch& taken, std::size_t movements);
  void withdraw(const std::shared_ptr<submission>& s);
  void queued(std::int64_t delta) {
    if (observer_) observer_->on_queue(delta);
  }

  store& db_;
  engine_params params_;
  engine_observer* observer_;
  std::deque<std::shared_ptr<submission>> queue_;
  bool draining_ = false;
  bool stopped_ = false;
  // Reaches the batch in flight. One per drain: a finished drain's frame
  // still holds its slot until its completion has run.
  std::shared_ptr<net::cancellation_signal> drain_cancel_;
};

void transfer_engine::impl::stop() {
  stopped_ = true;
  if (drain_cancel_) drain_cancel_->emit(net::cancellation_type::terminal);
}

net::awaitable<std::vector<result<movement_outcome>>> transfer_engine::impl::submit(
    call& c, std::vector<movement> items, bool atomic) {
  if (items.empty()) co_return std::vector<result<movement_outcome>>{};
  if (stopped_)
    co_return std::vector<result<movement_outcome>>(items.size(),
                                                    error{errc::service_unavailable, "bankd is shutting down"});
  const auto ex = co_await net::this_coro::executor;
  auto s = std::make_shared<submission>(ex, std::move(items), atomic, c.deadline);
  queue_.push_back(s);
  queued(static_cast<std::int64_t>(s->items.size()));
  if (!draining_) {
    draining_ = true;
    drain_cancel_ = std::make_shared<net::cancellation_signal>();
    net::co_spawn(ex, drain(shared_from_this()),
                  net::bind_cancellation_slot(drain_cancel_->slot(), [signal = drain_cancel_](std::exception_ptr e) {
                    util::rethrow(e);
                  }));
  }
  s->wake.expires_at(c.deadline);
  // The drain may have answered already: co_spawn runs it inline when it
  // can, and a batch that fails fast completes without suspending.
  while (!s->done) {
    auto [ec] = co_await s->wake.async_wait(use_tuple);
    if (s->done) break;
    if (!s->sent) {
      // The deadline passed (or the request was cancelled) in the queue:
      // nothing was sent, nothing happened.
      withdraw(s);
      co_return std::vector<result<movement_outcome>>(
          s->items.size(), error{errc::service_unavailable, "the request's time budget ran out before it was sent"});
    }
    if (ec == net::error::operation_aborted)  // cancelled while its batch is in flight
      co_return std::vector<result<movement_outcome>>(
          s->items.size(),
          error{errc::outcome_unknown, "the outcome is unknown; replay the request with the same Idempotency-Key"});
    s->wake.expires_at(db::clock::time_point::max());  // sent: the batch's own deadlines bound the wait
  }
  c.attempts += s->attempts;
  co_return std::move(s->results);
}

void transfer_engine::impl::withdraw(const std::shared_ptr<submission>& s) {
  const auto it = std::find(queue_.begin(), queue_.end(), s);
  if (it == queue_.end()) return;
  queue_.erase(it);
  queued(-static_cast<std::int64_t>(s->items.size()));
}

transfer_engine::impl::batch transfer_engine::impl::next_batch() {
  batch taken;
  std::size_t movements = 0;
  while (!queue_.empty()) {
    const auto& next = queue_.front();
    if (!taken.empty() && movements + next->items.size() > params_.max_batch) break;
    movements += next->items.size();
    next->sent = true;
    taken.push_back(next);
    queue_.pop_front();
  }
  queued(-static_cast<std::int64_t>(movements));
  return taken;
}

// `self` keeps the engine alive for as long as batches run.
net::awaitable<void> transfer_engine::impl::drain(std::shared_ptr<impl> /*self*/) {
  // Cancelled by stop(): the database operation in flight reports it, and
  // every request still gets an answer.
  co_await net::this_coro::throw_if_cancelled(false);
  while (!queue_.empty()) {
    const auto taken = next_batch();
    if (stopped_) {
      for (const auto& s : taken) {
        s->results.assign(s->items.size(), error{errc::service_unavailable, "bankd is shutting down"});
        s->done = true;
        s->wake.cancel();
      }
      continue;
    }
    std::size_t movements = 0;
    for (const auto& s : taken) movements += s->items.size();
    try {
      co_await run_batch(taken, movements);
    } catch (const std::exception& e) {
      // A bug (the SQL and the code disagree): every movement of the batch
      // fails, none is left waiting.
      log::error("engine.batch_exception").kv("what", e.what());
      for (const auto& s : taken)
        s->results.assign(s->items.size(), error{errc::internal, "internal error"});
    }
    for (const auto& s : taken) {
      s->done = true;
      s->wake.cancel();
    }
  }
  draining_ = false;
}

net::awaitable<void> transfer_engine::impl::run_batch(const batch& taken, std::size_t movements) {
  batch_columns columns;
  int group = 0;
  auto deadline = db::clock::now();
  for (const auto& s : taken) {
    const int g = s->atomic && s->items.size() > 1 ? ++group : 0;
    for (const auto& m : s->items) columns.add(m, g);
    deadline = std::max(deadline, s->deadline);
  }
  const auto values = columns.params();
  const auto started = db::clock::now();
  auto run = co_await db_.transact_until(
      deadline, "transfer.batch", params_.lock_key, params_.flush_after_unlock,
      [&](db::transaction& tx) -> net::awaitable<db::result<std::vector<batch_row>>> {
        db::batch b;
        b.add(apply_batch, values);
        auto sent = co_await tx.execute_and_commit(b);
        if (!sent) co_return sent.error();
        co_return db::read_rows<batch_row>(sent->results[0]);
      });
  if (observer_)
    observer_->on_batch(movements, std::chrono::duration<double>(db::clock::now() - started).count(), run.attempts);

  if (run.value && run.value->size() != movements)
    run.value = db::error::client(db::errc::protocol_error, "the batch function answered a different number of rows");
  // A batch that failed as a whole fails each movement the same way.
  const auto failure = run.value ? std::optional<error>{} : from_db(run.value.error(), "transfer.batch", effect::write);
  std::size_t next = 0;
  for (const auto& s : taken) {
    s->attempts = run.attempts;
    s->results.clear();
    for (std::size_t i = 0; i < s->items.size(); ++i, ++next) {
      if (failure) {
        s->results.push_back(*failure);
        continue;
      }
      auto outcome = outcome_of((*run.value)[next]);
      if (observer_) observer_->on_movement(outcome ? (outcome->replayed ? "replayed" : "committed")
                                                    : code_name(outcome.error().code));
      s->results.push_back(std::move(outcome));
    }
  }
}

transfer_engine::transfer_engine(store& db, engine_params params, engine_observer* observer)
    : impl_(std::make_shared<impl>(db, params, observer)) {}

transfer_engine::~transfer_engine() = default;

net::awaitable<std::vector<result<movement_outcome>>> transfer_engine::submit(call& c, std::vector<movement> items,
                                                                              bool atomic) {
  return impl_->submit(c, std::move(items), atomic);
}

void transfer_engine::stop() { impl_->stop(); }

}  // namespace bankd::bank
