// /users: create (operator), read, rename, delete (refused while holding money).

#include "bank/context.hpp"
#include "bank/json_input.hpp"

#include <nlohmann/json.hpp>

namespace bankd::bank {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr db::statement insert_user{"users.insert", R"sql(
INSERT INTO users (name, email, api_key_sha256) VALUES ($1, $2, $3)
RETURNING id, name, email, rfc3339(created_at)
)sql"};

constexpr db::statement select_user{"users.select", R"sql(
SELECT id, name, email, rfc3339(created_at) FROM users
 WHERE id = $1 AND id <> 0 AND deleted_at IS NULL
)sql"};

constexpr db::statement update_user{"users.update", R"sql(
UPDATE users SET name = COALESCE($2, name), email = COALESCE($3, email)
 WHERE id = $1 AND id <> 0 AND deleted_at IS NULL
RETURNING id, name, email, rfc3339(created_at)
)sql"};

// Deletes only a user whose accounts are all empty, closing them; in a
// SERIALIZABLE transaction so a credit racing with the delete makes one of
// them retry and see the other.
constexpr db::statement delete_user{"users.delete", R"sql(
WITH target AS (
  SELECT id FROM users
   WHERE id = $1 AND id <> 0 AND deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM accounts WHERE user_id = $1 AND balance <> 0)),
closed AS (
  UPDATE accounts SET closed_at = now()
   WHERE user_id IN (SELECT id FROM target) AND closed_at IS NULL
  RETURNING id)
UPDATE users SET deleted_at = now(), api_key_sha256 = NULL
 WHERE id IN (SELECT id FROM target)
RETURNING id, (SELECT count(*) FROM closed)
)sql"};

constexpr db::statement user_exists{"users.exists", R"sql(
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND id <> 0 AND deleted_at IS NULL)
)sql"};

constexpr std::size_t max_name = 200;
constexpr std::size_t max_email = 254;

json user_json(const db::query_result& r) {
  return {{"id", r.int64(0, 0)}, {"name", r.text(0, 1)}, {"email", r.text(0, 2)}, {"created_at", r.text(0, 3)}};
}

api_error email_taken() { return conflict("email_taken", "a user with this email already exists"); }

outcome<std::string> read_email(const json& body, bool required) {
  auto email = optional_text(body, "email", max_email);
  if (!email) return email.error();
  if (!*email) return required ? outcome<std::string>(invalid("'email' is required")) : std::string();
  if (!is_email(**email)) return invalid("'email' must be an email address");
  return std::move(**email);
}

net::awaitable<outcome<http::response>> create_user(call& c) {
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"name", "email"}); !ok) co_return ok.error();
  auto name = required_text(*body, "name", max_name);
  if (!name) co_return name.error();
  auto email = read_email(*body, true);
  if (!email) co_return email.error();

  const auto key = generate_api_key();
  db::batch b;
  b.add(insert_user, db::params{}.add(*name).add(*email).add(api_key_digest(key)));
  auto done = co_await c.bank.query_raw(b, {});
  if (!done && done.error().code == db::errc::unique_violation) co_return email_taken();
  if (!done) co_return from_db_error(done.error(), "users.create");
  auto user = user_json(done->results[0]);
  user["api_key"] = key;  // shown once; only its hash is stored
  co_return json_created(user, "/users/" + std::to_string(user["id"].get<std::int64_t>()));
}

net::awaitable<outcome<http::response>> get_user(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  if (!c.caller.may_act_for(*id)) co_return forbidden("not your user");
  db::batch b;
  b.add(select_user, db::params{}.add(*id));
  auto done = co_await c.bank.query(b, {}, "users.get");
  if (!done) co_return done.error();
  if (done->results[0].rows() == 0) co_return not_found("user " + std::to_string(*id) + " does not exist");
  co_return http::json_response(http::status::ok, user_json(done->results[0]));
}

net::awaitable<outcome<http::response>> patch_user(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  if (!c.caller.may_act_for(*id)) co_return forbidden("not your user");
  auto body = parse_object(c.http.req);
  if (!body) co_return body.error();
  if (auto ok = only_fields(*body, {"name", "email"}); !ok) co_return ok.error();
  std::optional<std::string> name;
  if (body->contains("name")) {
    auto n = required_text(*body, "name", max_name);
    if (!n) co_return n.error();
    name = std::move(*n);
  }
  auto email = read_email(*body, false);
  if (!email) co_return email.error();
  if (!name && email->empty()) co_return invalid("nothing to change: give 'name' and/or 'email'");

  db::batch b;
  b.add(update_user, db::params{}.add(*id).add(name).add(email->empty() ? std::optional<std::string>{} : *email));
  auto done = co_await c.bank.query_raw(b, {});
  if (!done && done.error().code == db::errc::unique_violation) co_return email_taken();
  if (!done) co_return from_db_error(done.error(), "users.update");
  if (done->results[0].rows() == 0) co_return not_found("user " + std::to_string(*id) + " does not exist");
  co_return http::json_response(http::status::ok, user_json(done->results[0]));
}

net::awaitable<outcome<http::response>> remove_user(call& c) {
  auto id = path_id(c);
  if (!id) co_return id.error();
  if (!c.caller.may_act_for(*id)) co_return forbidden("not your user");
  auto run = co_await db::run_serializable(c.bank.pool(), {}, [&](db::transaction& tx) -> net::awaitable<db::result<bool>> {
    db::batch b;
    b.add(delete_user, db::params{}.add(*id));
    auto done = co_await tx.execute_and_commit(b);
    if (!done) co_return done.error();
    co_return done->results[0].rows() == 1;
  });
  c.http.log.attempts = run.attempts;
  if (!run.value) co_return from_db_error(run.value.error(), "users.delete");
  if (*run.value) {
    c.bank.auth().forget(*id);
    co_return http::response{http::status::no_content, 11};
  }
  db::batch check;
  check.add(user_exists, db::params{}.add(*id));
  auto exists = co_await c.bank.query(check, {}, "users.delete");
  if (!exists) co_return exists.error();
  if (!exists->results[0].boolean(0, 0)) co_return not_found("user " + std::to_string(*id) + " does not exist");
  co_return conflict("user_holds_money", "the user still has money; empty its accounts first");
}

}  // namespace

void add_user_routes(http::router<http::endpoint>& routes, context& bank) {
  routes.add(verb::post, "/users", secured(bank, access::operator_only, create_user));
  routes.add(verb::get, "/users/{id}", secured(bank, access::any_key, get_user));
  routes.add(verb::patch, "/users/{id}", secured(bank, access::any_key, patch_user));
  routes.add(verb::delete_, "/users/{id}", secured(bank, access::any_key, remove_user));
}

}  // namespace bankd::bank
