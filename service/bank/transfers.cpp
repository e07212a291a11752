#include "bank/transfers.hpp"

#include "db/rows.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement select_transfer{"transfers.select", R"sql(
SELECT t.id, t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
       rfc3339(t.created_at) AS created_at, f.user_id AS from_user_id, d.user_id AS to_user_id
  FROM transfers t JOIN accounts f ON f.id = t.from_account_id JOIN accounts d ON d.id = t.to_account_id
 WHERE t.id = $1
)sql"};

struct owned_transfer : transfer {
  std::int64_t from_user_id = 0;
  std::int64_t to_user_id = 0;
};
BOOST_DESCRIBE_STRUCT(owned_transfer, (transfer), (from_user_id, to_user_id))

}  // namespace

movement transfer_service::transfer_movement(const call& c, const transfer_request& req) const {
  movement m;
  m.what = movement::kind::transfer;
  m.from_account_id = req.from_account_id;
  m.to_account_id = req.to_account_id;
  m.amount = req.amount;
  m.currency = req.currency;
  m.reference = req.reference;
  if (!c.caller.is_operator) m.debit_owner = c.caller.user_id;
  m.initiator = c.caller.user_id;
  m.idempotency_key = req.idempotency_key;
  return m;
}

net::awaitable<result<transfer_outcome>> transfer_service::transfer(call& c, const transfer_request& req) {
  if (req.from_account_id == req.to_account_id)
    co_return error{errc::same_account, "'from_account_id' and 'to_account_id' must differ"};
  std::vector<movement> one;
  one.push_back(transfer_movement(c, req));
  auto done = co_await engine_.submit(c, std::move(one), false);
  co_return std::move(done.at(0));
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
  std::vector<movement> one;
  one.push_back(std::move(m));
  auto done = co_await engine_.submit(c, std::move(one), false);
  co_return std::move(done.at(0));
}

net::awaitable<std::vector<result<transfer_outcome>>> transfer_service::transfer_batch(
    call& c, const std::vector<transfer_request>& reqs, bool atomic) {
  std::vector<result<transfer_outcome>> answers(reqs.size(), error{errc::internal, "internal error"});
  std::vector<movement> items;
  std::vector<std::size_t> positions;  // where each movement's answer goes
  std::optional<std::size_t> invalid;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i].from_account_id == reqs[i].to_account_id) {
      answers[i] = error{errc::same_account, "'from_account_id' and 'to_account_id' must differ"};
      if (!invalid) invalid = i;
      continue;
    }
    items.push_back(transfer_movement(c, reqs[i]));
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
