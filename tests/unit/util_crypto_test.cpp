#include "util/crypto.hpp"

#include <catch2/catch.hpp>

using namespace bankd::util;

TEST_CASE("base64: RFC 4648's vectors, both ways, malformed text refused") {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : vectors) {
    CHECK(base64_encode(raw) == encoded);
    CHECK(base64_decode(encoded) == raw);
  }
  const std::string binary("\x00\xff\x10\x80", 4);
  CHECK(base64_decode(base64_encode(binary)) == binary);
  CHECK_FALSE(base64_decode("Zm9"));
  CHECK_FALSE(base64_decode("Zm9v!!!!"));
}

TEST_CASE("HMAC-SHA256: RFC 4231 test case 2") {
  const auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(base64_encode(mac) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}
