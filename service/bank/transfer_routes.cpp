// /transfers and /accounts/{id}/deposits: moving money; reading one transfer.

#include "bank/context.hpp"
#include "bank/json_input.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bankd::bank {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr db::statement select_transfer{"transfers.select", R"sql(
SELECT t.id, t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
       rfc3339(t.created_at), f.user_id, d.user_id
  FROM transfers t JOIN accounts f ON f.id = t.from_account_id JOIN accounts d ON d.id = t.to_account_id
 WHERE t.id = $1
)sql"};

constexpr std::size_t max_reference = 140;
constexpr std::size_t max_key = 255;

json transfer_json(const transfer_record& t) {
  return {{"id", t.id},
          {"from_account_id", t.from_account_id},
          {"to_account_id", t.to_account_id},
          {"currency", t.currency},
          {"amount", t.amount},
          {"reference", t.reference ? json(*t.reference) : json(nullptr)},
          {"created_at", t.created_at}};
}

outcome<std::string> idempotency_key(const http::request& req) {
  const std::string_view key = req["Idempotency-Key"];
  if (key.empty())
    return api_error{http::status::bad_request, "idempotency_key_required",
                     "money-moving requests need an Idempotency-Key header"};
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.size() > max_key || !printable)
    return invalid("Idempotency-Key must be 1..255 printable ASCII characters");
  return std::string(key);
}

http::response transfer_response(const transfer_outcome& done) {
  auto res = json_created(transfer_json(done.record), "/transfers/" + std::to_string(done.record.id));
  if (done.replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

net::awaitable<outcome<http::response>> create_transfer(call& c) {
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"from_account_id", "to_account_id", "amount", "currency", "reference"}); !ok)
    co_return ok.error();
  transfer_request req;
  auto from = required_id(*body, "from_account_id");
  if (!from) co_return from.error();
  auto to = required_id(*body, "to_account_id");
  if (!to) co_return to.error();
  auto amount = required_amount(*body, "amount");
  if (!amount) co_return amount.error();
  auto currency = optional_currency(*body, "currency");
  if (!currency) co_return currency.error();
  auto reference = optional_text(*body, "reference", max_reference);
  if (!reference) co_return reference.error();
  auto key = idempotency_key(c.http.req);
  if (!key) co_return key.error();
  if (*from == *to)
    co_return api_error{http::status::unprocessable_entity, "same_account",
                        "'from_account_id' and 'to_account_id' must differ"};
  req = {*from, *to, *amount, std::move(*currency), std::move(*reference), std::move(*key)};

  auto done = co_await c.bank.transfers().transfer(c.caller, req);
  c.http.log.attempts = c.bank.transfers().last_attempts();
  if (!done) co_return done.error();
  co_return transfer_response(*done);
}

net::awaitable<outcome<http::response>> create_deposit(call& c) {
  auto account = path_id(c);
  if (!account) co_return account.error();
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"amount", "currency", "reference"}); !ok) co_return ok.error();
  auto amount = required_amount(*body, "amount");
  if (!amount) co_return amount.error();
  auto currency = optional_currency(*body, "currency");
  if (!currency) co_return currency.error();
  auto reference = optional_text(*body, "reference", max_reference);
  if (!reference) co_return reference.error();
  auto key = idempotency_key(c.http.req);
  if (!key) co_return key.error();
  transfer_request req{0, *account, *amount, std::move(*currency), std::move(*reference), std::move(*key)};

  auto done = co_await c.bank.transfers().deposit(req);
  c.http.log.attempts = c.bank.transfers().last_attempts();
  if (!done) co_return done.error();
  co_return transfer_response(*done);
}

net::awaitable<outcome<http::response>> get_transfer(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  db::batch b;
  b.add(select_transfer, db::params{}.add(*id));
  auto done = co_await c.bank.query(b, {}, "transfers.get");
  if (!done) co_return done.error();
  const auto& r = done->results[0];
  if (r.rows() == 0) co_return not_found("transfer " + std::to_string(*id) + " does not exist");
  if (!c.caller.may_act_for(r.int64(0, 7)) && !c.caller.may_act_for(r.int64(0, 8)))
    co_return forbidden("not your transfer");
  transfer_record t{r.int64(0, 0), r.int64(0, 1), r.int64(0, 2), std::string(r.text(0, 3)), r.int64(0, 4),
                    r.is_null(0, 5) ? std::nullopt : std::optional<std::string>(r.text(0, 5)),
                    std::string(r.text(0, 6))};
  co_return http::json_response(http::status::ok, transfer_json(t));
}

}  // namespace

void add_transfer_routes(http::router<http::endpoint>& routes, context& bank) {
  routes.add(verb::post, "/transfers", secured(bank, access::any_key, create_transfer));
  routes.add(verb::get, "/transfers/{id}", secured(bank, access::any_key, get_transfer));
  routes.add(verb::post, "/accounts/{id}/deposits", secured(bank, access::operator_only, create_deposit));
}

}  // namespace bankd::bank
