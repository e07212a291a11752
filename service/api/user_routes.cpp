// /users: create (operator), read, rename, delete (refused while holding
// money), freeze and unfreeze (operator).

#include "api/exchange.hpp"
#include "api/json_input.hpp"
#include "api/json_output.hpp"
#include "api/routes.hpp"

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::size_t max_name = 200;
constexpr std::size_t max_email = 254;

outcome<std::optional<std::string>> read_email(const json& body, bool required) {
  auto email = optional_text(body, "email", max_email);
  if (!email) return email.error();
  if (!*email) {
    if (required) return invalid("'email' is required");
    return std::optional<std::string>{};
  }
  if (!is_email(**email)) return invalid("'email' must be an email address");
  return std::move(*email);
}

net::awaitable<outcome<http::response>> create_user(exchange& x) {
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"name", "email"}); !ok) co_return ok.error();
  auto name = required_text(*body, "name", max_name);
  if (!name) co_return name.error();
  auto email = read_email(*body, true);
  if (!email) co_return email.error();
  auto key = optional_idempotency_key(x.http.req);
  if (!key) co_return key.error();
  co_return respond(co_await x.bank.users.create(x.call, *name, **email, std::move(*key)), [](const bank::new_user& u) {
    const auto path = "/users/" + std::to_string(u.user.id);
    auto out = user_json(u.user);
    // A key is shown once: a replay says where to make a new one instead.
    if (u.api_key) out["api_key"] = *u.api_key;
    else out["api_keys"] = path + "/api-keys";
    auto res = json_created(out, path);
    if (u.replayed) res.set("Idempotent-Replayed", "true");
    return res;
  });
}

net::awaitable<outcome<http::response>> set_frozen(exchange& x, bool frozen) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.users.set_frozen(x.call, *id, frozen),
                    [](const bank::user& u) { return json_ok(user_json(u)); });
}

net::awaitable<outcome<http::response>> get_user(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  co_return respond(co_await x.bank.users.get(x.call, *id), [](const bank::user& u) { return json_ok(user_json(u)); });
}

net::awaitable<outcome<http::response>> patch_user(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  if (!x.call.caller.may_act_for(*id)) co_return forbidden("not your user");
  auto body = parse_object(x.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"name", "email"}); !ok) co_return ok.error();
  bank::user_changes changes;
  if (body->contains("name")) {
    auto n = required_text(*body, "name", max_name);
    if (!n) co_return n.error();
    changes.name = std::move(*n);
  }
  auto email = read_email(*body, false);
  if (!email) co_return email.error();
  changes.email = std::move(*email);
  if (!changes.name && !changes.email) co_return invalid("nothing to change: give 'name' and/or 'email'");
  co_return respond(co_await x.bank.users.update(x.call, *id, changes),
                    [](const bank::user& u) { return json_ok(user_json(u)); });
}

net::awaitable<outcome<http::response>> remove_user(exchange& x) {
  auto id = path_id(x);
  if (!id) co_return id.error();
  auto done = co_await x.bank.users.remove(x.call, *id);
  if (!done) co_return from_bank(done.error());
  co_return no_content();
}

}  // namespace

void add_user_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::post, "/users", secured(bank, access::operator_only, create_user));
  routes.add(verb::get, "/users/{id}", secured(bank, access::any_key, get_user));
  routes.add(verb::patch, "/users/{id}", secured(bank, access::any_key, patch_user));
  routes.add(verb::delete_, "/users/{id}", secured(bank, access::any_key, remove_user));
  routes.add(verb::post, "/users/{id}/freeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, true); }));
  routes.add(verb::post, "/users/{id}/unfreeze",
             secured(bank, access::operator_only, [](exchange& x) { return set_frozen(x, false); }));
}

}  // namespace bankd::api
