// How domain outcomes and database failures leave bankd over HTTP, and the
// pieces of authentication that need no database.

#include "api/api_error.hpp"
#include "api/exchange.hpp"
#include "bank/call.hpp"
#include "bank/keys.hpp"
#include "util/crypto.hpp"
#include "support/catch_result.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

using namespace bankd;
using api::api_error;

namespace {

db::error db_failure(db::errc e) { return db::error::client(e, "detail for logs"); }

api_error through_http(db::errc e, bank::effect kind) {
  return api::from_bank(bank::from_db(db_failure(e), "test", kind));
}

}  // namespace

TEST_CASE("nothing reached the database: 503 service_unavailable with Retry-After, revealing nothing") {
  for (auto e : {db::errc::pool_exhausted, db::errc::unavailable, db::errc::pool_closed, db::errc::read_only}) {
    for (auto kind : {bank::effect::read, bank::effect::write}) {
      const auto err = through_http(e, kind);
      CHECK(err.status == http::status::service_unavailable);
      CHECK(err.code == "service_unavailable");
      const auto res = api::to_response(err);
      CHECK(res.result() == http::status::service_unavailable);
      CHECK(res[http::beast_http::field::retry_after] == "1");
      CHECK(res.body().find("detail for logs") == std::string::npos);
    }
  }
}

TEST_CASE("a write sent and not answered is 503 outcome_unknown, a read is only unavailable") {
  for (auto e : {db::errc::connection_lost, db::errc::timeout, db::errc::cancelled, db::errc::protocol_error}) {
    CHECK(through_http(e, bank::effect::write).code == "outcome_unknown");
    CHECK(through_http(e, bank::effect::write).status == http::status::service_unavailable);
    CHECK(through_http(e, bank::effect::read).code == "service_unavailable");
  }
}

TEST_CASE("exhausted serialization retries are 503 retries_exhausted") {
  const auto err = through_http(db::errc::serialization_failure, bank::effect::write);
  CHECK(err.status == http::status::service_unavailable);
  CHECK(err.code == "retries_exhausted");
  CHECK(err.retry_later);
}

TEST_CASE("unexpected database errors are a bare 500") {
  auto failure = db_failure(db::errc::server_error);
  failure.message = "relation \"secret_table\" does not exist";
  const auto res = api::to_response(api::from_bank(bank::from_db(failure, "test", bank::effect::read)));
  CHECK(res.result() == http::status::internal_server_error);
  CHECK(res.body().find("secret_table") == std::string::npos);
  CHECK(nlohmann::json::parse(res.body())["error"]["code"] == "internal_error");
}

TEST_CASE("every domain outcome has a status and a stable code") {
  using bank::errc;
  const std::vector<std::pair<errc, unsigned>> expected{
      {errc::invalid, 422},           {errc::same_account, 422},      {errc::forbidden, 403},
      {errc::not_found, 404},         {errc::account_not_found, 404}, {errc::insufficient_funds, 409},
      {errc::currency_mismatch, 422}, {errc::account_closed, 409},    {errc::account_frozen, 409},    {errc::idempotency_key_reused, 422},
      {errc::email_taken, 409},       {errc::balance_not_zero, 409},  {errc::user_holds_money, 409},
      {errc::transfer_refused, 409},  {errc::batch_failed, 409},      {errc::service_unavailable, 503},
      {errc::outcome_unknown, 503},   {errc::retries_exhausted, 503}, {errc::internal, 500},
      {errc::transfer_not_pending, 409}, {errc::amount_exceeds_pending, 422},
      {errc::transfer_not_reversible, 409}, {errc::reversal_exceeds_remainder, 409},
      {errc::url_not_allowed, 422}};
  std::set<std::string_view> codes;
  for (const auto& [e, status] : expected) {
    const auto err = api::from_bank({e, "m"});
    CHECK(static_cast<unsigned>(err.status) == status);
    CHECK(err.retry_later == (status == 503));
    codes.insert(err.code);
  }
  CHECK(codes.size() == expected.size());  // no two outcomes share a code
}

TEST_CASE("error bodies are JSON with code and message, 401 names the scheme") {
  const auto res = api::to_response(api_error{http::status::unauthorized, "unauthenticated", "who are you"});
  CHECK(res[http::beast_http::field::content_type] == "application/json");
  CHECK(res[http::beast_http::field::www_authenticate] == "Bearer");
  const auto body = nlohmann::json::parse(res.body());
  CHECK(body["error"]["code"] == "unauthenticated");
  CHECK(body["error"]["message"] == "who are you");
}

TEST_CASE("bearer keys: the scheme in any case, trimmed, printable and bounded") {
  CHECK(api::bearer_key("Bearer abc") == "abc");
  CHECK(api::bearer_key("bearer   abc  ") == "abc");
  CHECK(api::bearer_key("Basic abc").empty());
  CHECK(api::bearer_key("Bearer ").empty());
  CHECK(api::bearer_key("Bearer a b").empty());
  CHECK(api::bearer_key("Bearer " + std::string(257, 'k')).empty());
  CHECK(api::bearer_key("Bearer " + std::string(256, 'k')).size() == 256);
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
