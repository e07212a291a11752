// POST /transfers/batch: up to 1,000 items in one request (transfers, holds,
// and posts or voids of holds), each with its own idempotency key and its
// own answer; "atomic": true for all or nothing.

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

// A refusal of the whole request that names the item and the field.
api_error item_error(std::size_t index, std::string_view field, const api_error& e) {
  api_error named = e;
  named.message = "transfers[" + std::to_string(index) + "]" + (field.empty() ? "" : "." + std::string(field)) +
                  ": " + e.message;
  return named;
}

outcome<std::string> item_key(const json& item) {
  const auto it = item.find("idempotency_key");
  if (it == item.end() || it->is_null()) return invalid("'idempotency_key' is required");
  if (!it->is_string()) return invalid("'idempotency_key' must be a string");
  const auto key = it->get<std::string>();
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.empty() || key.size() > max_key || !printable)
    return invalid("'idempotency_key' must be 1..255 printable ASCII characters");
  return key;
}

// A transfer or hold item, or the request's refusal naming it.
outcome<bank::transfer_request> read_transfer(const json& item, std::size_t index) {
  if (auto ok = only_fields(item, {"action", "from_account_id", "to_account_id", "amount", "currency", "reference",
                                   "metadata", "pending", "timeout_seconds", "idempotency_key"});
      !ok)
    return item_error(index, "", ok.error());
  bank::transfer_request req;
  auto from = required_id(item, "from_account_id");
  if (!from) return item_error(index, "from_account_id", from.error());
  auto to = required_id(item, "to_account_id");
  if (!to) return item_error(index, "to_account_id", to.error());
  auto amount = required_amount(item, "amount");
  if (!amount) return item_error(index, "amount", amount.error());
  auto currency = optional_currency(item, "currency");
  if (!currency) return item_error(index, "currency", currency.error());
  auto reference = optional_text(item, "reference", max_reference);
  if (!reference) return item_error(index, "reference", reference.error());
  auto metadata = optional_metadata(item, "metadata");
  if (!metadata) return item_error(index, "metadata", metadata.error());
  auto pending = optional_bool(item, "pending");
  if (!pending) return item_error(index, "pending", pending.error());
  auto timeout = optional_integer(item, "timeout_seconds", 1, bank::max_hold_seconds);
  if (!timeout) return item_error(index, "timeout_seconds", timeout.error());
  auto key = item_key(item);
  if (!key) return item_error(index, "idempotency_key", key.error());
  return bank::transfer_request{*from,           *to,  *amount, std::move(*currency), std::move(*reference),
                                std::move(*key), pending->value_or(false), *timeout, std::move(*metadata)};
}

// A post or void item.
outcome<bank::settle_request> read_settlement(const json& item, std::size_t index, bool post) {
  const auto known = post ? only_fields(item, {"action", "transfer_id", "amount", "metadata", "idempotency_key"})
                          : only_fields(item, {"action", "transfer_id", "metadata", "idempotency_key"});
  if (!known) return item_error(index, "", known.error());
  auto id = required_id(item, "transfer_id");
  if (!id) return item_error(index, "transfer_id", id.error());
  auto amount = optional_amount(item, "amount");
  if (!amount) return item_error(index, "amount", amount.error());
  auto metadata = optional_metadata(item, "metadata");
  if (!metadata) return item_error(index, "metadata", metadata.error());
  auto key = item_key(item);
  if (!key) return item_error(index, "idempotency_key", key.error());
  return bank::settle_request{*id, amount->value_or(0), std::nullopt, std::move(*metadata), std::move(*key)};
}

// One item, or the request's refusal naming it.
outcome<bank::batch_item> read_item(const json& item, std::size_t index) {
  using action = bank::batch_item::action;
  if (!item.is_object()) return item_error(index, "", invalid("each transfer must be a JSON object"));
  auto what = action::transfer;
  if (const auto it = item.find("action"); it != item.end() && !it->is_null()) {
    if (*it == "post") what = action::post;
    else if (*it == "void") what = action::void_hold;
    else if (*it != "transfer") return item_error(index, "action", invalid("must be transfer, post or void"));
  }
  bank::batch_item out;
  out.what = what;
  if (what == action::transfer) {
    auto req = read_transfer(item, index);
    if (!req) return req.error();
    out.transfer = std::move(*req);
  } else {
    auto req = read_settlement(item, index, what == action::post);
    if (!req) return req.error();
    out.settle = std::move(*req);
  }
  return out;
}

outcome<std::pair<std::vector<bank::batch_item>, bool>> read_batch(const json& body) {
  if (auto ok = only_fields(body, {"transfers", "atomic"}); !ok) return ok.error();
  bool atomic = false;
  if (const auto it = body.find("atomic"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return invalid("'atomic' must be true or false");
    atomic = it->get<bool>();
  }
  const auto items = body.find("transfers");
  if (items == body.end() || !items->is_array() || items->empty() ||
      items->size() > bank::max_batch_transfers)
    return invalid("'transfers' must be an array of 1.." + std::to_string(bank::max_batch_transfers) + " transfers");
  std::vector<bank::batch_item> reqs;
  reqs.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto req = read_item((*items)[i], i);
    if (!req) return req.error();
    reqs.push_back(std::move(*req));
  }
  return std::pair{std::move(reqs), atomic};
}

// An item's answer, as its single request would answer: a committed transfer
// or hold is 201 (created), a post or void 200. Debiting another user's
// account answers like a missing one (enumeration: docs/security.md).
json result_json(const bank::result<bank::transfer_outcome>& r, const bank::batch_item& item) {
  const bool is_transfer = item.what == bank::batch_item::action::transfer;
  if (r)
    return {{"status", is_transfer ? 201 : 200}, {"transfer", transfer_json(r->record)}, {"replayed", r->replayed}};
  const auto e = is_transfer ? hiding_others_debit(r.error(), item.transfer.from_account_id) : from_bank(r.error());
  return {{"status", static_cast<unsigned>(e.status)}, {"error", {{"code", e.code}, {"message", e.message}}}};
}

// The database failures behind items of a 200 answer, logged once each with
// the request's id (the items of one failed batch share one).
void log_item_failures(const std::vector<bank::result<bank::transfer_outcome>>& results, std::string_view request_id) {
  const bank::failure_note* last = nullptr;
  for (const auto& r : results) {
    if (r || !r.error().note || r.error().note.get() == last) continue;
    last = r.error().note.get();
    bank::log_failure(*last, request_id);
  }
}

net::awaitable<outcome<http::response>> create_batch(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  auto batch = read_batch(*body);
  if (!batch) co_return batch.error();
  const auto results = co_await x.bank.transfers.transfer_batch(x.call, batch->first, batch->second);
  // Nothing could be tried (the database away): the request as a whole is
  // retried later, with Retry-After, rather than item by item.
  const bool all_later = std::all_of(results.begin(), results.end(), [](const auto& r) {
    return !r && from_bank(r.error()).retry_later;
  });
  if (all_later) co_return from_bank(results.front().error());
  log_item_failures(results, x.http.log.request_id);
  json items = json::array();
  for (std::size_t i = 0; i < results.size(); ++i) items.push_back(result_json(results[i], batch->first[i]));
  co_return json_ok({{"results", std::move(items)}});
}

}  // namespace

void add_batch_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/transfers/batch", secured(bank, access::any_key, create_batch));
}

}  // namespace bankd::api
