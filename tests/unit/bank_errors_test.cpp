// Mapping of database failures and domain errors to HTTP responses, and the
// pieces of authentication that need no database.

#include "bank/api_error.hpp"
#include "bank/auth.hpp"
#include "util/crypto.hpp"
#include "support/catch_result.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

using namespace bankd;
using bank::api_error;

namespace {

db::error db_failure(db::errc e) { return db::error::client(e, "detail for logs"); }

}  // namespace

TEST_CASE("transient database trouble is 503 with Retry-After, revealing nothing") {
  for (auto e : {db::errc::pool_exhausted, db::errc::unavailable, db::errc::connection_lost,
                 db::errc::timeout, db::errc::read_only}) {
    const auto err = bank::from_db_error(db_failure(e), "test");
    CHECK(err.status == http::status::service_unavailable);
    CHECK(err.code == "database_unavailable");
    const auto res = bank::to_response(err);
    CHECK(res.result() == http::status::service_unavailable);
    CHECK(res[http::beast_http::field::retry_after] == "1");
    CHECK(res.body().find("detail for logs") == std::string::npos);
  }
}

TEST_CASE("exhausted serialization retries are 503 retries_exhausted") {
  const auto err = bank::from_db_error(db_failure(db::errc::serialization_failure), "test");
  CHECK(err.status == http::status::service_unavailable);
  CHECK(err.code == "retries_exhausted");
}

TEST_CASE("unexpected database errors are a bare 500") {
  auto failure = db_failure(db::errc::server_error);
  failure.message = "relation \"secret_table\" does not exist";
  const auto res = bank::to_response(bank::from_db_error(failure, "test"));
  CHECK(res.result() == http::status::internal_server_error);
  CHECK(res.body().find("secret_table") == std::string::npos);
  CHECK(nlohmann::json::parse(res.body())["error"]["code"] == "internal_error");
}

TEST_CASE("error bodies are JSON with code and message; 401 names the scheme") {
  const auto res = bank::to_response(api_error{http::status::unauthorized, "unauthenticated", "who are you"});
  CHECK(res[http::beast_http::field::content_type] == "application/json");
  CHECK(res[http::beast_http::field::www_authenticate] == "Bearer");
  const auto body = nlohmann::json::parse(res.body());
  CHECK(body["error"]["code"] == "unauthenticated");
  CHECK(body["error"]["message"] == "who are you");
}

TEST_CASE("API keys are random, prefixed and stored only as SHA-256") {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.insert(bank::generate_api_key());
  CHECK(keys.size() == 100);
  const auto key = *keys.begin();
  CHECK(key.rfind("bk_", 0) == 0);
  CHECK(key.size() == 3 + 43);
  CHECK(bank::api_key_digest(key).size() == 64);
  CHECK(bank::api_key_digest(key) != key);
  CHECK(util::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("constant-time comparison compares content and length") {
  CHECK(util::constant_time_equal("operator-key", "operator-key"));
  CHECK_FALSE(util::constant_time_equal("operator-key", "operator-kez"));
  CHECK_FALSE(util::constant_time_equal("operator-key", "operator-key-longer"));
  CHECK_FALSE(util::constant_time_equal("", "x"));
}

TEST_CASE("identities: users act for themselves, the operator for everyone") {
  const bank::identity user{7, false};
  const bank::identity op{bank::operator_user_id, true};
  CHECK(user.may_act_for(7));
  CHECK_FALSE(user.may_act_for(8));
  CHECK(op.may_act_for(7));
  CHECK(op.may_act_for(8));
}
