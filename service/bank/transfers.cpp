#include "bank/transfers.hpp"

#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement select_transfer{"transfers.select", R"sql(
SELECT v.*, f.user_id AS from_user_id, d.user_id AS to_user_id
  FROM transfer_views v JOIN accounts f ON f.id = v.from_account_id JOIN accounts d ON d.id = v.to_account_id
 WHERE v.id = $1
)sql"};

struct owned_transfer : transfer {
  std::int64_t from_user_id = 0;
  std::int64_t to_user_id = 0;
};
BOOST_DESCRIBE_STRUCT(owned_transfer, (transfer), (from_user_id, to_user_id))

// The sweeper's key for expiring hold `id`. It has spaces, which no
// Idempotency-Key may have, so no request can take it first; two sweeps of
// one hold are a replay.
std::string expiry_key(std::int64_t id) { return "bankd expire " + std::to_string(id); }

std::optional<error> invalid_request(const transfer_request& req) {
  if (req.from_account_id == req.to_account_id)
    return error{errc::same_account, "'from_account_id' and 'to_account_id' must differ"};
  if (req.timeout_seconds && !req.pending) return error{errc::invalid, "'timeout_seconds' needs 'pending': true"};
  if (req.timeout_seconds && (*req.timeout_seconds < 1 || *req.timeout_seconds > max_hold_seconds))
    return error{errc::invalid, "'timeout_seconds' must be 1.." + std::to_string(max_hold_seconds)};
  return std::nullopt;
}

}  // namespace

movement transfer_service::transfer_movement(const call& c, const transfer_request& req) const {
  movement m;
  m.what = req.pending ? movement::kind::pending : movement::kind::transfer;
  m.from_account_id = req.from_account_id;
  m.to_account_id = req.to_account_id;
  m.amount = req.amount;
  m.currency = req.currency;
  m.reference = req.reference;
  if (!c.caller.is_operator) m.debit_owner = c.caller.user_id;
  m.initiator = c.caller.user_id;
  m.idempotency_key = req.idempotency_key;
  m.timeout_seconds = req.timeout_seconds;
  m.metadata = req.metadata;
  return m;
}

movement transfer_service::settle_movement(const call& c, movement::kind what, const settle_request& req) const {
  movement m;
  m.what = what;
  m.target_id = req.transfer_id;
  m.amount = req.amount;
  if (what == movement::kind::reverse) m.reference = req.reference;
  if (!c.caller.is_operator) m.debit_owner = c.caller.user_id;
  m.initiator = c.caller.user_id;
  m.idempotency_key = req.idempotency_key;
  m.metadata = req.metadata;
  return m;
}

net::awaitable<result<transfer_outcome>> transfer_service::submit_one(call& c, movement m) {
  std::vector<movement> one;
  one.push_back(std::move(m));
  auto done = co_await engine_.submit(c, std::move(one), false);
  co_return std::move(done.at(0));
}

net::awaitable<result<transfer_outcome>> transfer_service::transfer(call& c, const transfer_request& req) {
  if (auto refused = invalid_request(req)) co_return std::move(*refused);
  co_return co_await submit_one(c, transfer_movement(c, req));
}

net::awaitable<result<transfer_outcome>> transfer_service::deposit(call& c, const transfer_request& req) {
  movement m;
  m.what = movement::kind::deposit;
  m.to_account_id = req.to_account_id;
  m.amount = req.amount;
  m.currency = req.currency;
  m.reference = req.reference;
  m.initiator = operator_user_id;
  m.idempotency_key = req.idempotency_key;
  m.metadata = req.metadata;
  co_return co_await submit_one(c, std::move(m));
}

net::awaitable<result<transfer_outcome>> transfer_service::post(call& c, const settle_request& req) {
  co_return co_await submit_one(c, settle_movement(c, movement::kind::post, req));
}

net::awaitable<result<transfer_outcome>> transfer_service::void_hold(call& c, const settle_request& req) {
  co_return co_await submit_one(c, settle_movement(c, movement::kind::void_hold, req));
}

net::awaitable<result<transfer_outcome>> transfer_service::reverse(call& c, const settle_request& req) {
  co_return co_await submit_one(c, settle_movement(c, movement::kind::reverse, req));
}

net::awaitable<std::vector<result<transfer_outcome>>> transfer_service::expire(call& c,
                                                                            const std::vector<std::int64_t>& ids) {
  if (!c.caller.is_operator)
    co_return std::vector<result<transfer_outcome>>(ids.size(), error{errc::forbidden, "holds expire by bankd only"});
  std::vector<movement> items;
  for (const auto id : ids) {
    movement m;
    m.what = movement::kind::expire;
    m.target_id = id;
    m.initiator = operator_user_id;
    m.idempotency_key = expiry_key(id);
    items.push_back(std::move(m));
  }
  co_return co_await engine_.submit(c, std::move(items), false);
}

net::awaitable<std::vector<result<transfer_outcome>>> transfer_service::transfer_batch(
    call& c, const std::vector<batch_item>& reqs, bool atomic) {
  std::vector<result<transfer_outcome>> answers(reqs.size(), error{errc::internal, "internal error"});
  std::vector<movement> items;
  std::vector<std::size_t> positions;  // where each movement's answer goes
  std::optional<std::size_t> invalid;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    if (r.what == batch_item::action::transfer) {
      if (auto refused = invalid_request(r.transfer)) {
        answers[i] = std::move(*refused);
        if (!invalid) invalid = i;
        continue;
      }
      items.push_back(transfer_movement(c, r.transfer));
    } else {
      const auto what = r.what == batch_item::action::post ? movement::kind::post : movement::kind::void_hold;
      items.push_back(settle_movement(c, what, r.settle));
    }
    positions.push_back(i);
  }
  if (atomic && invalid) {  // nothing is sent: the batch cannot commit whole
    for (std::size_t i = 0; i < reqs.size(); ++i)
      if (i != *invalid) answers[i] = error{errc::batch_failed, "another transfer of this atomic batch was refused"};
    co_return answers;
  }
  auto done = co_await engine_.submit(c, std::move(items), atomic);
  for (std::size_t k = 0; k < done.size(); ++k) answers[positions[k]] = std::move(done[k]);
  co_return answers;
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
