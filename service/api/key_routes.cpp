// /users/{id}/api-keys: a user's named keys. The user itself or the operator
// makes one (shown once), lists them, and revokes one at once, even while the
// user holds money.

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::size_t max_key_name = 100;

net::awaitable<outcome<http::response>> create_key(exchange& x) {
  auto user = path_id(x);
  if (!user) co_return user.error();
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"name"}); !ok) co_return ok.error();
  auto name = required_text(*body, "name", max_key_name);
  if (!name) co_return name.error();
  co_return respond(co_await x.bank.api_keys.create(x.call, *user, *name), [&](const bank::new_api_key& k) {
    auto out = api_key_json(k.key);
    out["api_key"] = k.secret;
    return json_created(out, "/users/" + std::to_string(*user) + "/api-keys/" + std::to_string(k.key.id));
  });
}

net::awaitable<outcome<http::response>> list_keys(exchange& x) {
  auto user = path_id(x);
  if (!user) co_return user.error();
  co_return respond(co_await x.bank.api_keys.list(x.call, *user), [](const std::vector<bank::api_key>& keys) {
    json items = json::array();
    for (const auto& k : keys) items.push_back(api_key_json(k));
    return json_ok({{"api_keys", std::move(items)}});
  });
}

net::awaitable<outcome<http::response>> revoke_key(exchange& x) {
  auto user = path_id(x);
  if (!user) co_return user.error();
  auto key = path_id(x, "key_id");
  if (!key) co_return key.error();
  auto done = co_await x.bank.api_keys.revoke(x.call, *user, *key);
  if (!done) co_return from_bank(done.error());
  co_return no_content();
}

}  // namespace

void add_key_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/users/{id}/api-keys", secured(bank, access::any_key, create_key));
  routes.add(verb::get, "/users/{id}/api-keys", secured(bank, access::any_key, list_keys));
  routes.add(verb::delete_, "/users/{id}/api-keys/{key_id}", secured(bank, access::any_key, revoke_key));
}

}  // namespace bankd::api
