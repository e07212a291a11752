// /transfers and /accounts/{id}/deposits: moving money, holds and their
// post or void, reversals; reading one transfer.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

#include <algorithm>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::size_t max_reference = 140;
constexpr std::size_t max_key = 255;

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

// What transfers and deposits share: amount, currency, reference and
// metadata from the body, the Idempotency-Key header.
outcome<bank::transfer_request> money_request(const http::request& http_req, const json& body) {
  bank::transfer_request req;
  auto amount = required_amount(body, "amount");
  if (!amount) return amount.error();
  auto currency = optional_currency(body, "currency");
  if (!currency) return currency.error();
  auto reference = optional_text(body, "reference", max_reference);
  if (!reference) return reference.error();
  auto metadata = optional_metadata(body, "metadata");
  if (!metadata) return metadata.error();
  auto key = idempotency_key(http_req);
  if (!key) return key.error();
  req.metadata = std::move(*metadata);
  req.amount = *amount;
  req.currency = std::move(*currency);
  req.reference = std::move(*reference);
  req.idempotency_key = std::move(*key);
  return req;
}

http::response transfer_response(const bank::transfer_outcome& done) {
  auto res = json_created(transfer_json(done.record), "/transfers/" + std::to_string(done.record.id));
  if (done.replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

net::awaitable<outcome<http::response>> create_transfer(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"from_account_id", "to_account_id", "amount", "currency", "reference",
                                    "metadata", "pending", "timeout_seconds"});
      !ok)
    co_return ok.error();
  auto from = required_id(*body, "from_account_id");
  if (!from) co_return from.error();
  auto to = required_id(*body, "to_account_id");
  if (!to) co_return to.error();
  auto req = money_request(x.http.req, *body);
  if (!req) co_return req.error();
  auto pending = optional_bool(*body, "pending");
  if (!pending) co_return pending.error();
  auto timeout = optional_integer(*body, "timeout_seconds", 1, bank::max_hold_seconds);
  if (!timeout) co_return timeout.error();
  req->from_account_id = *from;
  req->to_account_id = *to;
  req->pending = pending->value_or(false);
  req->timeout_seconds = *timeout;
  auto done = co_await x.bank.transfers.transfer(x.call, *req);
  if (!done) co_return hiding_others_debit(done.error(), *from);  // enumeration: docs/security.md
  co_return transfer_response(*done);
}

net::awaitable<outcome<http::response>> create_deposit(exchange& x) {
  auto account = path_id(x);
  if (!account) co_return account.error();
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"amount", "currency", "reference", "metadata"}); !ok) co_return ok.error();
  auto req = money_request(x.http.req, *body);
  if (!req) co_return req.error();
  req->to_account_id = *account;
  co_return respond(co_await x.bank.transfers.deposit(x.call, *req), transfer_response);
}

net::awaitable<outcome<http::response>> get_transfer(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto found = co_await x.bank.transfers.get(x.call, *id);
  if (!found) co_return hiding_others(found.error(), "transfer " + std::to_string(*id) + " does not exist");
  co_return json_ok(transfer_json(*found));
}

// A body is optional for post, void and reverse: none reads as {}.
outcome<json> optional_body(const http::request& req) {
  if (req.body().empty() && req[http::beast_http::field::content_type].empty())
    return outcome<json>(boost::system::in_place_value, json::object());
  return parse_object(req);
}

enum class settlement { post, void_hold, reverse };

bank::error error_placeholder() { return {bank::errc::internal, "internal error"}; }

// A refusal of a post, void or reversal. A caller on neither side of the
// transfer may not even see it, so "not yours" answers as a missing
// transfer, as GET /transfers/{id} does; the other side's owner, who can
// see it, is told it is not theirs to settle (403).
net::awaitable<outcome<http::response>> settle_refusal(exchange& x, std::int64_t id, const bank::error& e) {
  if (e.code == bank::errc::forbidden) {
    auto seen = co_await x.bank.transfers.get(x.call, id);
    if (!seen) co_return hiding_others(seen.error(), "transfer " + std::to_string(id) + " does not exist");
  }
  co_return from_bank(e);
}

// POST /transfers/{id}/post, /void and /reverse: the transfer in the path,
// an optional amount (post, reverse), reference (reverse) and metadata.
net::awaitable<outcome<http::response>> settle(exchange& x, settlement what) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto body = optional_body(x.http.req);
  if (!body) co_return body.error();
  const auto known = what == settlement::post      ? only_fields(*body, {"amount", "metadata"})
                     : what == settlement::reverse ? only_fields(*body, {"amount", "reference", "metadata"})
                                                   : only_fields(*body, {"metadata"});
  if (!known) co_return known.error();
  auto amount = optional_amount(*body, "amount");
  if (!amount) co_return amount.error();
  auto reference = optional_text(*body, "reference", max_reference);
  if (!reference) co_return reference.error();
  auto metadata = optional_metadata(*body, "metadata");
  if (!metadata) co_return metadata.error();
  auto key = idempotency_key(x.http.req);
  if (!key) co_return key.error();
  const bank::settle_request req{*id, amount->value_or(0), std::move(*reference), std::move(*metadata),
                                 std::move(*key)};
  // Not one conditional expression with two co_awaits: GCC 12 destroys
  // such a temporary twice.
  bank::result<bank::transfer_outcome> done = error_placeholder();
  if (what == settlement::reverse) done = co_await x.bank.transfers.reverse(x.call, req);
  else if (what == settlement::post) done = co_await x.bank.transfers.post(x.call, req);
  else done = co_await x.bank.transfers.void_hold(x.call, req);
  if (!done) co_return co_await settle_refusal(x, *id, done.error());
  if (what == settlement::reverse) co_return transfer_response(*done);
  co_return respond(std::move(done), [](const bank::transfer_outcome& o) {
    auto res = json_ok(transfer_json(o.record));
    if (o.replayed) res.set("Idempotent-Replayed", "true");
    return res;
  });
}

}  // namespace

void add_transfer_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/transfers", secured(bank, access::any_key, create_transfer));
  routes.add(verb::get, "/transfers/{id}", secured(bank, access::any_key, get_transfer));
  routes.add(verb::post, "/transfers/{id}/post",
             secured(bank, access::any_key, [](exchange& x) { return settle(x, settlement::post); }));
  routes.add(verb::post, "/transfers/{id}/void",
             secured(bank, access::any_key, [](exchange& x) { return settle(x, settlement::void_hold); }));
  routes.add(verb::post, "/transfers/{id}/reverse",
             secured(bank, access::any_key, [](exchange& x) { return settle(x, settlement::reverse); }));
  routes.add(verb::post, "/accounts/{id}/deposits", secured(bank, access::operator_only, create_deposit));
}

}  // namespace bankd::api
