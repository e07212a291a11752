// /webhooks: register, list, read, delete, rotate the secret, re-enable.
// Operator only. The secret is in the answers of create and rotate only.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

#include <nlohmann/json.hpp>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

outcome<std::vector<std::string>> event_types(const json& body) {
  const auto it = body.find("events");
  if (it == body.end()) return invalid("'events' is required");
  if (!it->is_array()) return invalid("'events' must be an array of event types");
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) return invalid("'events' must be an array of event types");
    out.push_back(item.get<std::string>());
  }
  return out;
}

net::awaitable<outcome<http::response>> create_webhook(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"url", "events", "description"}); !ok) co_return ok.error();
  auto url = required_text(*body, "url", bank::max_webhook_url_length);
  if (!url) co_return url.error();
  auto events = event_types(*body);
  if (!events) co_return events.error();
  auto description = optional_text(*body, "description", bank::max_webhook_description_length);
  if (!description) co_return description.error();
  const bank::new_webhook w{std::move(*url), std::move(*events), description->value_or("")};
  co_return respond(co_await x.bank.webhooks.create(x.call, w), [](const bank::webhook_with_secret& made) {
    return json_created(webhook_json(made), "/webhooks/" + std::to_string(made.endpoint.id));
  });
}

net::awaitable<outcome<http::response>> list_webhooks(exchange& x) {
  co_return respond(co_await x.bank.webhooks.list(x.call), [](const std::vector<bank::webhook>& all) {
    json items = json::array();
    for (const auto& w : all) items.push_back(webhook_json(w));
    return json_ok({{"webhooks", std::move(items)}});
  });
}

net::awaitable<outcome<http::response>> get_webhook(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.webhooks.get(x.call, *id),
                    [](const bank::webhook& w) { return json_ok(webhook_json(w)); });
}

net::awaitable<outcome<http::response>> delete_webhook(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto done = co_await x.bank.webhooks.remove(x.call, *id);
  if (!done) co_return from_bank(done.error());
  co_return no_content();
}

net::awaitable<outcome<http::response>> rotate_secret(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.webhooks.rotate_secret(x.call, *id),
                    [](const bank::webhook_with_secret& w) { return json_ok(webhook_json(w)); });
}

net::awaitable<outcome<http::response>> enable_webhook(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.webhooks.enable(x.call, *id),
                    [](const bank::webhook& w) { return json_ok(webhook_json(w)); });
}

}  // namespace

void add_webhook_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/webhooks", secured(bank, access::operator_only, create_webhook));
  routes.add(verb::get, "/webhooks", secured(bank, access::operator_only, list_webhooks));
  routes.add(verb::get, "/webhooks/{id}", secured(bank, access::operator_only, get_webhook));
  routes.add(verb::delete_, "/webhooks/{id}", secured(bank, access::operator_only, delete_webhook));
  routes.add(verb::post, "/webhooks/{id}/rotate-secret", secured(bank, access::operator_only, rotate_secret));
  routes.add(verb::post, "/webhooks/{id}/enable", secured(bank, access::operator_only, enable_webhook));
}

}  // namespace bankd::api
