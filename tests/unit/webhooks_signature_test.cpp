#include "webhooks/signature.hpp"

#include <catch2/catch.hpp>

using namespace bankd::webhooks;

TEST_CASE("webhook signatures: the Standard Webhooks example") {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const auto signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
  REQUIRE(signature);
  CHECK(*signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // Any change to what is signed changes the signature.
  CHECK(sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, R"({"test": 2432232314})") != signature);
  CHECK(sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJel", 1614265330, R"({"test": 2432232314})") != signature);
  CHECK(sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232315})") != signature);
}

TEST_CASE("webhook signatures: malformed secrets sign nothing, a rotation sends both") {
  CHECK_FALSE(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "1", 1, "{}"));
  CHECK_FALSE(sign("whsec_", "1", 1, "{}"));
  CHECK_FALSE(sign("whsec_not base64!", "1", 1, "{}"));
  const std::string a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const auto header = signature_header({a, b}, "7", 100, "{}");
  CHECK(header == *sign(a, "7", 100, "{}") + " " + *sign(b, "7", 100, "{}"));
  CHECK(signature_header({a, "junk"}, "7", 100, "{}") == *sign(a, "7", 100, "{}"));
}
