// Who may do what: every endpoint of docs/api.md against every kind of
// caller (no key, a bad key, another user's key, the owner's key, the
// operator key), table-driven. Each cell gets a fresh owner, so cells cannot
// disturb each other; every success that moves money is written into a
// model, and after the whole matrix every balance in the database must match
// it and no user may have debited an account that is not its own.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace bankd;
using nlohmann::json;

namespace {

enum class caller { none, bad_key, other_user, owner, operator_key };
constexpr std::array<caller, 5> callers = {caller::none, caller::bad_key, caller::other_user,
                                           caller::owner, caller::operator_key};

const char* name_of(caller c) {
  switch (c) {
    case caller::none:
      return "no key";
    case caller::bad_key:
      return "bad key";
    case caller::other_user:
      return "other user's key";
    case caller::owner:
      return "own key";
    case caller::operator_key:
      return "operator key";
  }
  return "?";
}

struct movement {
  std::int64_t from;
  std::int64_t to;
  std::int64_t amount;
};

struct request_spec {
  std::string method;
  std::string target;
  std::optional<json> body;
  std::map<std::string, std::string> headers;
  std::optional<movement> moves;  // what a 2xx does to balances
};

std::string path(const char* prefix, std::int64_t id, const char* suffix = "") {
  return prefix + std::to_string(id) + suffix;
}

// What each cell acts on: a user of its own with a funded account (1000),
// an empty second account, and one transfer in each direction.
struct target {
  test::funded_account owner;
  std::int64_t empty_account;
  std::int64_t sent_transfer;      // owner -> third party
  std::int64_t received_transfer;  // third party -> owner
};

class bank_world {
 public:
  test::scratch_database db;
  test::bankd_server server{db.conninfo()};
  test::http_client op = server.operator_client();
  test::funded_account other;  // the "other user": a customer with money of her own
  test::funded_account third;  // a party neither the owner nor the other user
  std::map<std::int64_t, std::int64_t> expected;  // account -> balance
  int serial = 0;

  bank_world() {
    other = open_customer(1000);
    third = open_customer(1'000'000);
  }

  std::string next_key() { return "authz-" + std::to_string(serial++); }

  void apply(const movement& m) {
    expected[m.from] -= m.amount;
    expected[m.to] += m.amount;
  }

  test::funded_account open_customer(std::int64_t deposit) {
    auto customer = test::create_funded_account(op, "EUR", 0);
    if (funding_ == 0)
      funding_ =
          sql_.scalar_int("SELECT id FROM accounts WHERE kind = 'funding' AND currency = 'EUR'");
    expected[customer.account_id] += 0;
    if (deposit > 0) {
      auto done = op.post(path("/accounts/", customer.account_id, "/deposits"),
                          {{"amount", deposit}}, {{"Idempotency-Key", next_key()}});
      REQUIRE(done.status == 201);
      apply({funding_, customer.account_id, deposit});
    }
    return customer;
  }

  target make_target() {
    target t{open_customer(1000), 0, 0, 0};
    auto empty = op.post("/accounts", {{"currency", "EUR"}, {"user_id", t.owner.user_id}});
    REQUIRE(empty.status == 201);
    t.empty_account = empty.json()["id"].get<std::int64_t>();
    expected[t.empty_account] += 0;
    t.sent_transfer = send(t.owner, t.owner.account_id, third.account_id, 1);
    t.received_transfer = send(third, third.account_id, t.owner.account_id, 1);
    return t;
  }

  test::pg_session& sql() { return sql_; }

  // A hold made by the operator; it moves no balance.
  std::int64_t hold(std::int64_t from, std::int64_t to, std::int64_t amount) {
    auto made = op.post("/transfers", {{"from_account_id", from}, {"to_account_id", to}, {"amount", amount},
                                       {"pending", true}},
                        {{"Idempotency-Key", next_key()}});
    REQUIRE(made.status == 201);
    return made.json()["id"].get<std::int64_t>();
  }

 private:
  std::int64_t send(const test::funded_account& as, std::int64_t from, std::int64_t to,
                    std::int64_t amount) {
    auto client = server.client(as.api_key);
    auto sent = client.post("/transfers",
                            {{"from_account_id", from}, {"to_account_id", to}, {"amount", amount}},
                            {{"Idempotency-Key", next_key()}});
    REQUIRE(sent.status == 201);
    apply({from, to, amount});
    return sent.json()["id"].get<std::int64_t>();
  }

  test::pg_session sql_{db.conninfo()};
  std::int64_t funding_ = 0;
};

struct row {
  const char* name;
  std::array<unsigned, 5> expected;  // in the order of `callers`
  std::function<request_spec(bank_world&, const target&, caller)> build;
};

constexpr std::array<unsigned, 5> public_endpoint = {200, 200, 200, 200, 200};
constexpr std::array<unsigned, 5> owner_or_operator(unsigned ok) {
  return {401, 401, 403, ok, ok};
}
// Another user's account or transfer answers as one that does not exist.
constexpr std::array<unsigned, 5> hidden_from_others(unsigned ok) {
  return {401, 401, 404, ok, ok};
}
constexpr std::array<unsigned, 5> operator_only(unsigned ok) {
  return {401, 401, 403, 403, ok};
}

std::vector<row> matrix() {
  using w = bank_world;
  using t = target;
  return {
      {"GET /healthz", public_endpoint,
       [](w&, const t&, caller) {
         return request_spec{"GET", "/healthz"};
       }},
      {"GET /readyz", public_endpoint,
       [](w&, const t&, caller) {
         return request_spec{"GET", "/readyz"};
       }},
      {"GET /metrics", public_endpoint,
       [](w&, const t&, caller) {
         return request_spec{"GET", "/metrics"};
       }},

      {"POST /users", operator_only(201),
       [](w& world, const t&, caller) {
         const auto n = std::to_string(world.serial++);
         return request_spec{"POST", "/users",
                             json{{"name", "new " + n}, {"email", "new" + n + "@example.com"}}};
       }},
      {"GET /users/{id}", owner_or_operator(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/users/", x.owner.user_id)};
       }},
      {"PATCH /users/{id}", owner_or_operator(200),
       [](w&, const t& x, caller) {
         return request_spec{"PATCH", path("/users/", x.owner.user_id), json{{"name", "renamed"}}};
       }},
      {"DELETE /users/{id} (holding money)", owner_or_operator(409),
       [](w&, const t& x, caller) {
         return request_spec{"DELETE", path("/users/", x.owner.user_id)};
       }},
      {"DELETE /users/{id} (empty)", owner_or_operator(204),
       [](w& world, const t& x, caller) {
         // Empty the owner first (the money goes to the third party, by the operator).
         auto out = world.op.post("/transfers",
                                  {{"from_account_id", x.owner.account_id},
                                   {"to_account_id", world.third.account_id},
                                   {"amount", world.expected[x.owner.account_id]}},
                                  {{"Idempotency-Key", world.next_key()}});
         REQUIRE(out.status == 201);
         world.apply(
             {x.owner.account_id, world.third.account_id, world.expected[x.owner.account_id]});
         return request_spec{"DELETE", path("/users/", x.owner.user_id)};
       }},
      {"GET /users/{id}/accounts", owner_or_operator(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/users/", x.owner.user_id, "/accounts")};
       }},
      {"POST /users/{id}/api-keys", owner_or_operator(201),
       [](w&, const t& x, caller) {
         return request_spec{"POST", path("/users/", x.owner.user_id, "/api-keys"), json{{"name", "ci"}}};
       }},
      {"GET /users/{id}/api-keys", owner_or_operator(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/users/", x.owner.user_id, "/api-keys")};
       }},
      {"DELETE /users/{id}/api-keys/{key_id}", owner_or_operator(204),
       [](w& world, const t& x, caller) {
         const auto key = world.sql().scalar("SELECT min(id) FROM api_keys WHERE user_id = $1",
                                             {std::to_string(x.owner.user_id)});
         return request_spec{"DELETE", path("/users/", x.owner.user_id, "/api-keys/") + key};
       }},
      {"POST /users/{id}/freeze", operator_only(200),
       [](w&, const t& x, caller) {
         return request_spec{"POST", path("/users/", x.owner.user_id, "/freeze")};
       }},
      {"POST /users/{id}/unfreeze", operator_only(200),
       [](w&, const t& x, caller) {
         return request_spec{"POST", path("/users/", x.owner.user_id, "/unfreeze")};
       }},
      {"POST /accounts/{id}/freeze", operator_only(200),
       [](w&, const t& x, caller) {
         return request_spec{"POST", path("/accounts/", x.owner.account_id, "/freeze")};
       }},
      {"POST /accounts/{id}/unfreeze", operator_only(200),
       [](w&, const t& x, caller) {
         return request_spec{"POST", path("/accounts/", x.owner.account_id, "/unfreeze")};
       }},

      {"POST /accounts", owner_or_operator(201),
       [](w&, const t& x, caller) {
         return request_spec{"POST", "/accounts",
                             json{{"currency", "EUR"}, {"user_id", x.owner.user_id}}};
       }},
      {"GET /accounts/{id}", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/accounts/", x.owner.account_id)};
       }},
      {"DELETE /accounts/{id} (empty)", hidden_from_others(204),
       [](w&, const t& x, caller) {
         return request_spec{"DELETE", path("/accounts/", x.empty_account)};
       }},
      {"DELETE /accounts/{id} (holding money)", hidden_from_others(409),
       [](w&, const t& x, caller) {
         return request_spec{"DELETE", path("/accounts/", x.owner.account_id)};
       }},
      {"GET /accounts/{id}/transfers", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/accounts/", x.owner.account_id, "/transfers")};
       }},

      {"POST /transfers debiting the owner's account", hidden_from_others(201),
       [](w& world, const t& x, caller) {
         const movement m{x.owner.account_id, world.third.account_id, 7};
         return request_spec{
             "POST",
             "/transfers",
             json{{"from_account_id", m.from}, {"to_account_id", m.to}, {"amount", m.amount}},
             {{"Idempotency-Key", world.next_key()}},
             m};
       }},
      // A user may credit any account, from its own.
      {"POST /transfers crediting the owner's account",
       {401, 401, 201, 201, 201},
       [](w& world, const t& x, caller c) {
         // The owner pays into its other account; the operator pays from the
         // third party, so only the other user's cell touches her money.
         const auto from = c == caller::owner        ? x.owner.account_id
                           : c == caller::other_user ? world.other.account_id
                                                     : world.third.account_id;
         const auto to = c == caller::owner ? x.empty_account : x.owner.account_id;
         const movement m{from, to, 5};
         return request_spec{
             "POST",
             "/transfers",
             json{{"from_account_id", m.from}, {"to_account_id", m.to}, {"amount", m.amount}},
             {{"Idempotency-Key", world.next_key()}},
             m};
       }},
      {"POST /accounts/{id}/deposits", operator_only(201),
       [](w& world, const t& x, caller) {
         return request_spec{
             "POST",
             path("/accounts/", x.owner.account_id, "/deposits"),
             json{{"amount", 50}},
             {{"Idempotency-Key", world.next_key()}},
             movement{world.sql().scalar_int("SELECT id FROM accounts WHERE kind = 'funding'"),
                      x.owner.account_id, 50}};
       }},
      {"GET /transfers/{id} (owner sent it)", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/transfers/", x.sent_transfer)};
       }},
      {"GET /transfers/{id} (owner received it)", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/transfers/", x.received_transfer)};
       }},

      {"POST /transfers (a hold on the owner's account)", hidden_from_others(201),
       [](w& world, const t& x, caller) {
         return request_spec{"POST", "/transfers",
                             json{{"from_account_id", x.owner.account_id},
                                  {"to_account_id", world.third.account_id},
                                  {"amount", 8},
                                  {"pending", true}},
                             {{"Idempotency-Key", world.next_key()}}};
       }},
      {"POST /transfers/{id}/post (a hold on the owner's account)", hidden_from_others(200),
       [](w& world, const t& x, caller) {
         const auto hold = world.hold(x.owner.account_id, world.third.account_id, 9);
         return request_spec{"POST", path("/transfers/", hold, "/post"), json{{"amount", 6}},
                             {{"Idempotency-Key", world.next_key()}},
                             movement{x.owner.account_id, world.third.account_id, 6}};
       }},
      {"POST /transfers/{id}/void (a hold on the owner's account)", hidden_from_others(200),
       [](w& world, const t& x, caller) {
         const auto hold = world.hold(x.owner.account_id, world.third.account_id, 9);
         return request_spec{"POST", path("/transfers/", hold, "/void"), json::object(),
                             {{"Idempotency-Key", world.next_key()}}};
       }},
      // The receiver gives money back, not the sender.
      {"POST /transfers/{id}/reverse (owner received it)", hidden_from_others(201),
       [](w& world, const t& x, caller) {
         return request_spec{"POST", path("/transfers/", x.received_transfer, "/reverse"), json::object(),
                             {{"Idempotency-Key", world.next_key()}},
                             movement{x.owner.account_id, world.third.account_id, 1}};
       }},
      {"POST /transfers/{id}/reverse (owner sent it)", {401, 401, 404, 403, 201},  // the sender sees it but may not take money back
       [](w& world, const t& x, caller) {
         return request_spec{"POST", path("/transfers/", x.sent_transfer, "/reverse"), json::object(),
                             {{"Idempotency-Key", world.next_key()}},
                             movement{world.third.account_id, x.owner.account_id, 1}};
       }},
      {"GET /accounts/{id}/balance", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/accounts/", x.owner.account_id, "/balance")};
       }},
      {"GET /accounts/{id}/statement", hidden_from_others(200),
       [](w&, const t& x, caller) {
         return request_spec{"GET", path("/accounts/", x.owner.account_id, "/statement")};
       }},

      {"POST /audit/balances", operator_only(200),
       [](w&, const t& x, caller) {
         return request_spec{"POST", "/audit/balances",
                             json{{"account_ids", {x.owner.account_id}}}};
       }},
  };
}

test::http_client client_for(bank_world& world, const target& x, caller c) {
  switch (c) {
    case caller::none:
      return world.server.client();
    case caller::bad_key:
      return world.server.client("bk_" + std::string(43, 'A'));
    case caller::other_user:
      return world.server.client(world.other.api_key);
    case caller::owner:
      return world.server.client(x.owner.api_key);
    case caller::operator_key:
      return world.server.client(test::operator_key);
  }
  throw std::logic_error("unknown caller");
}

}  // namespace

TEST_CASE(
    "every endpoint answers every kind of caller as documented, and nobody moves others' money") {
  bank_world world;
  std::ostringstream table;
  int mismatches = 0;
  for (const auto& r : matrix()) {
    table << r.name << ":";
    for (std::size_t i = 0; i < callers.size(); ++i) {
      const auto c = callers[i];
      const auto x = world.make_target();
      const auto spec = r.build(world, x, c);
      auto client = client_for(world, x, c);
      const auto reply = client.request(
          spec.method, spec.target, spec.body ? spec.body->dump() : std::string(), spec.headers);
      table << " " << name_of(c) << "=" << reply.status;
      INFO(r.name << " with " << name_of(c) << ": " << reply.status << " " << reply.body);
      if (reply.status != r.expected[i]) ++mismatches;
      CHECK(reply.status == r.expected[i]);
      if (reply.status == 401) {
        CHECK(reply.error_code() == "unauthenticated");
        CHECK(reply.header("www-authenticate") == "Bearer");
      }
      if (reply.status == 403) CHECK(reply.error_code() == "forbidden");
      if (spec.moves && reply.status / 100 == 2) world.apply(*spec.moves);
    }
    table << "\n";
  }
  INFO(table.str());
  CHECK(mismatches == 0);

  // Money: every balance is what the successful requests made it.
  auto& sql = world.sql();
  for (const auto& r : sql.query("SELECT id, balance FROM accounts ORDER BY id")) {
    const auto id = std::stoll(r[0]);
    INFO("account " << id);
    CHECK(std::stoll(r[1]) == world.expected[id]);
  }
  CHECK(sql.scalar_int("SELECT sum(balance) FROM accounts") == 0);
  // Every hold that was made and not posted or voided is still held.
  CHECK(sql.scalar_int("SELECT sum(held) FROM accounts") ==
        sql.scalar_int("SELECT coalesce(sum(amount), 0) FROM holds"));
  // No user debited an account that is not its own (the operator is user 0).
  CHECK(sql.scalar_int(R"sql(
      SELECT count(*) FROM transfers t JOIN accounts a ON a.id = t.from_account_id
       WHERE t.initiated_by <> 0 AND t.initiated_by <> a.user_id)sql") == 0);
  // The other user paid only the credits she chose to make: 5 to each owner's
  // account in the crediting row, nothing else.
  CHECK(world.expected[world.other.account_id] == 1000 - 5);
  CHECK(sql.scalar_int("SELECT balance FROM accounts WHERE id = $1",
                       {std::to_string(world.other.account_id)}) == 1000 - 5);
}

TEST_CASE("malformed or near-miss keys are 401 and move nothing") {
  bank_world world;
  const auto x = world.make_target();
  const auto before =
      world.sql().scalar("SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM accounts");
  const std::string op = test::operator_key;
  const std::vector<std::pair<const char*, std::string>> headers = {
      {"Basic credentials", "Basic dXNlcjpwYXNz"},
      {"scheme only", "Bearer"},
      {"scheme and spaces", "Bearer    "},
      {"no scheme", op},
      {"another scheme", "Token " + op},
      {"operator key minus its last character", "Bearer " + op.substr(0, op.size() - 1)},
      {"operator key plus a character", "Bearer " + op + "x"},
      {"operator key with different case", "Bearer " + std::string("TEST") + op.substr(4)},
      {"owner's key minus its last character",
       "Bearer " + x.owner.api_key.substr(0, x.owner.api_key.size() - 1)},
      {"owner's key twice", "Bearer " + x.owner.api_key + " " + x.owner.api_key},
      {"owner's key's hash",
       "Bearer " + world.sql().scalar("SELECT key_sha256 FROM api_keys WHERE user_id = $1",
                                      {std::to_string(x.owner.user_id)})},
      {"a 300-character key", "Bearer bk_" + std::string(297, 'a')},
      {"SQL in the key", "Bearer ' OR '1'='1"},
      {"SQL in the key, no spaces", "Bearer '||(SELECT'x')||'--"},
  };
  auto anonymous = world.server.client();
  for (const auto& [what, value] : headers) {
    INFO(what);
    auto read =
        anonymous.request("GET", path("/users/", x.owner.user_id), "", {{"Authorization", value}});
    CHECK(read.status == 401);
    auto pay = anonymous.request("POST", "/transfers",
                                 json{{"from_account_id", x.owner.account_id},
                                      {"to_account_id", world.other.account_id},
                                      {"amount", 1}}
                                     .dump(),
                                 {{"Authorization", value}, {"Idempotency-Key", world.next_key()}});
    CHECK(pay.status == 401);
  }
  CHECK(world.sql().scalar(
            "SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM accounts") == before);

  // The scheme is case-insensitive and surrounding spaces do not matter.
  CHECK(anonymous
            .request("GET", "/accounts/" + std::to_string(x.owner.account_id), "",
                     {{"Authorization", "bEARER   " + x.owner.api_key + "  "}})
            .status == 200);
}

TEST_CASE("a deleted user's key stops working on the thread that deleted it") {
  bank_world world;
  auto x = world.make_target();
  auto owner = world.server.client(x.owner.api_key);  // one connection: one thread
  auto out = world.op.post("/transfers",
                           {{"from_account_id", x.owner.account_id},
                            {"to_account_id", world.third.account_id},
                            {"amount", world.expected[x.owner.account_id]}},
                           {{"Idempotency-Key", world.next_key()}});
  REQUIRE(out.status == 201);
  REQUIRE(owner.get(path("/users/", x.owner.user_id)).status == 200);
  REQUIRE(owner.del(path("/users/", x.owner.user_id)).status == 204);
  CHECK(owner.get(path("/users/", x.owner.user_id)).status == 401);
  CHECK(owner
            .post("/transfers",
                  {{"from_account_id", x.empty_account},
                   {"to_account_id", world.third.account_id},
                   {"amount", 1}},
                  {{"Idempotency-Key", world.next_key()}})
            .status == 401);
}
