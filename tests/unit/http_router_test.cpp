// Routing: literal segments, {parameters}, 404 versus 405.

#include "http/router.hpp"

#include <catch2/catch.hpp>

using bankd::http::router;
using boost::beast::http::verb;

TEST_CASE("routes match literal segments and capture parameters") {
  router<int> r;
  r.add(verb::get, "/users/{id}", 1);
  r.add(verb::get, "/users/{id}/accounts", 2);
  r.add(verb::post, "/users", 3);

  auto m = r.find(verb::get, "/users/42/accounts");
  REQUIRE(m.handler != nullptr);
  CHECK(*m.handler == 2);
  CHECK(m.route == "/users/{id}/accounts");
  CHECK(m.params.get("id") == "42");
  CHECK(m.params.get("missing").empty());

  auto user = r.find(verb::get, "/users/7");
  REQUIRE(user.handler != nullptr);
  CHECK(*user.handler == 1);
  CHECK(user.params.get("id") == "7");
}

TEST_CASE("a known path under another method is 405 with the allowed methods") {
  router<int> r;
  r.add(verb::get, "/users/{id}", 1);
  r.add(verb::delete_, "/users/{id}", 2);
  auto m = r.find(verb::post, "/users/1");
  CHECK(m.handler == nullptr);
  CHECK(m.allowed == "GET, DELETE");
  CHECK(m.route == "/users/{id}");
}

TEST_CASE("unknown paths match nothing") {
  router<int> r;
  r.add(verb::get, "/users/{id}", 1);
  for (const char* path : {"/", "/users", "/users/1/2", "/accounts/1", "/userz/1"}) {
    auto m = r.find(verb::get, path);
    CHECK(m.handler == nullptr);
    CHECK(m.allowed.empty());
  }
}

TEST_CASE("parameters capture the decoded segment, validation is the handler's") {
  router<int> r;
  r.add(verb::get, "/accounts/{id}", 1);
  auto m = r.find(verb::get, "/accounts/..%2F..");
  REQUIRE(m.handler != nullptr);
  CHECK(m.params.get("id") == "../..");  // an encoded slash stays inside its segment
  CHECK(r.find(verb::get, "/accounts/%31").params.get("id") == "1");
  CHECK(r.find(verb::get, "/%61ccounts/7").handler != nullptr);  // %61 is 'a'
  CHECK(r.find(verb::get, "/accounts/a%20b").params.get("id") == "a b");
}

TEST_CASE("paths that are not valid RFC 3986 paths match nothing") {
  router<int> r;
  r.add(verb::get, "/accounts/{id}", 1);
  for (const char* path : {"/./accounts/1", "/accounts/./1", "/accounts/%2e%2e", "/accounts/..", "/accounts/%zz", "/accounts/%", "/accounts/1%2", "accounts/1", "/accounts/a b",
                           "/accounts/\x01"}) {
    INFO(path);
    auto m = r.find(verb::get, path);
    CHECK(m.handler == nullptr);
    CHECK(m.allowed.empty());
  }
}

TEST_CASE("empty segments are skipped, as before") {
  router<int> r;
  r.add(verb::get, "/accounts/{id}", 1);
  CHECK(r.find(verb::get, "/accounts/7/").params.get("id") == "7");
  CHECK(r.find(verb::get, "//accounts//7").handler != nullptr);
}

TEST_CASE("many routes keep their patterns stable as the table grows") {
  router<int> r;
  for (int i = 0; i < 100; ++i) r.add(verb::get, "/r" + std::to_string(i) + "/{id}", i);
  auto m = r.find(verb::get, "/r57/x");
  REQUIRE(m.handler != nullptr);
  CHECK(*m.handler == 57);
  CHECK(m.route == "/r57/{id}");
}
