// SQLSTATE classification and the retryable condition.

#include "db/error.hpp"
#include "support/catch_result.hpp"

#include <catch2/catch.hpp>

using namespace bankd::db;

TEST_CASE("SQLSTATEs map to the kinds callers act on") {
  CHECK(classify_sqlstate("40001") == errc::serialization_failure);
  CHECK(classify_sqlstate("40P01") == errc::deadlock_detected);
  CHECK(classify_sqlstate("23505") == errc::unique_violation);
  CHECK(classify_sqlstate("23514") == errc::check_violation);
  CHECK(classify_sqlstate("23503") == errc::foreign_key_violation);
  CHECK(classify_sqlstate("23502") == errc::not_null_violation);
  CHECK(classify_sqlstate("22003") == errc::numeric_out_of_range);
  CHECK(classify_sqlstate("08006") == errc::connection_lost);
  CHECK(classify_sqlstate("57P01") == errc::connection_lost);
  CHECK(classify_sqlstate("25006") == errc::read_only);  // a write on a standby
  CHECK(classify_sqlstate("0A000") == errc::server_error);  // read_only only from a standby
  CHECK(classify_sqlstate("42P01") == errc::server_error);
}

TEST_CASE("only serialization failures and deadlocks are retryable") {
  CHECK(is_retryable(make_error_code(errc::serialization_failure)));
  CHECK(is_retryable(make_error_code(errc::deadlock_detected)));
  for (auto e : {errc::unique_violation, errc::check_violation, errc::connection_lost, errc::timeout,
                 errc::pool_exhausted, errc::server_error, errc::cancelled, errc::read_only})
    CHECK_FALSE(is_retryable(make_error_code(e)));
}

TEST_CASE("db error codes have readable messages and their own category") {
  const auto ec = make_error_code(errc::pool_exhausted);
  CHECK(ec.message() == "connection pool exhausted");
  CHECK(std::string(ec.category().name()) == "bankd.db");
  CHECK(ec != boost::system::errc::make_error_code(boost::system::errc::timed_out));
}

TEST_CASE("result<T> carries the error value") {
  result<int> r = error::client(errc::timeout, "slow");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(r.error().message == "slow");
  CHECK_THROWS_AS(r.value(), boost::system::system_error);
}
