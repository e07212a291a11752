// The log throttle, with a clock the test moves by hand.

#include "util/log_throttle.hpp"

#include <catch2/catch.hpp>

using bankd::util::log_throttle;
using namespace std::chrono_literals;

TEST_CASE("one line per cause per interval, with the count held back") {
  log_throttle throttle(1s);
  const auto t0 = log_throttle::clock::time_point{} + 100s;
  CHECK(throttle.admit("connect_failed", t0) == 0u);  // the first line of a cause is written
  CHECK_FALSE(throttle.admit("connect_failed", t0 + 10ms));
  CHECK_FALSE(throttle.admit("connect_failed", t0 + 999ms));
  CHECK(throttle.admit("other cause", t0 + 999ms) == 0u);  // causes are counted apart
  CHECK(throttle.admit("connect_failed", t0 + 1s) == 2u);  // a second later: 2 held back
  CHECK(throttle.admit("connect_failed", t0 + 5s) == 0u);  // nothing held back since
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(throttle.admit("connect_failed", t0 + 5s + 1ms * i));
  CHECK(throttle.admit("connect_failed", t0 + 6s) == 1000u);
}

TEST_CASE("the interval counts from the last line written, not the last one held back") {
  log_throttle throttle(1s);
  const auto t0 = log_throttle::clock::time_point{} + 100s;
  REQUIRE(throttle.admit("x", t0));
  // A line every 0.9 s: held back if the window moved with each attempt,
  // written every other time since it does not.
  CHECK_FALSE(throttle.admit("x", t0 + 900ms));
  CHECK(throttle.admit("x", t0 + 1800ms) == 1u);
}
