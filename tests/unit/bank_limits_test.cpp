// The failed-authentication budget per client address and the currency
// allowlist, without a database.

#include "bank/auth_limiter.hpp"
#include "bank/currencies.hpp"

#include <catch2/catch.hpp>

using namespace bankd::bank;
using namespace std::chrono_literals;

TEST_CASE("auth limiter: a burst of failures, then a steady rate, per address") {
  auth_limiter limiter(3, 2);
  const auto t0 = auth_limiter::clock::now();
  for (int i = 0; i < 3; ++i) {
    CHECK(limiter.may_try("10.0.0.1", t0));
    limiter.failed("10.0.0.1", t0);
  }
  CHECK_FALSE(limiter.may_try("10.0.0.1", t0));
  CHECK(limiter.may_try("10.0.0.2", t0));  // its own budget
  CHECK_FALSE(limiter.may_try("10.0.0.1", t0 + 400ms));
  CHECK(limiter.may_try("10.0.0.1", t0 + 500ms));  // 2 per second: one back after 0.5 s
  limiter.failed("10.0.0.1", t0 + 500ms);
  CHECK_FALSE(limiter.may_try("10.0.0.1", t0 + 600ms));
  CHECK(limiter.may_try("10.0.0.1", t0 + 10s));
}

TEST_CASE("auth limiter: forgets quiet addresses when full, never more than it holds") {
  auth_limiter limiter(1, 1, 2);
  const auto t0 = auth_limiter::clock::now();
  limiter.failed("a", t0);
  limiter.failed("b", t0);
  limiter.failed("c", t0 + 5s);  // a and b refilled: forgotten
  CHECK(limiter.may_try("a", t0 + 5s));
  CHECK_FALSE(limiter.may_try("c", t0 + 5s));
}

TEST_CASE("currency list: codes with exponents, looked up exactly") {
  const auto list = currency_list::parse("USD:2, JPY:0,EUR:2");
  CHECK(list.exponent("JPY") == 0);
  CHECK(list.exponent("EUR") == 2);
  CHECK_FALSE(list.exponent("GBP"));
  CHECK_FALSE(list.exponent("eur"));
  CHECK(list.entries().front().code == "EUR");
  CHECK_THROWS_AS(currency_list::parse("EUR:2,XX:1"), std::invalid_argument);
}
