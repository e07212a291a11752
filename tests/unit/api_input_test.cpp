// Strict JSON input: objects only, no duplicate keys, bounded nesting, exact
// integer money, validated text.

#include "api/json_input.hpp"
#include "support/catch_result.hpp"

#include <catch2/catch.hpp>

using namespace bankd::api;
using nlohmann::json;

namespace {

json parsed(std::string_view text) {
  auto r = parse_object_text(text);
  REQUIRE(r.has_value());
  return *r;
}

std::string failure_code(std::string_view text) {
  auto r = parse_object_text(text);
  return r ? "" : std::string(r.error().code);
}

}  // namespace

TEST_CASE("bodies must be JSON objects") {
  CHECK(failure_code("{}").empty());
  CHECK(failure_code("[]") == "malformed_request");
  CHECK(failure_code("42") == "malformed_request");
  CHECK(failure_code("") == "malformed_request");
  CHECK(failure_code("{\"a\":") == "malformed_request");
  CHECK(failure_code("{\"a\":1} trailing") == "malformed_request");
  CHECK(failure_code("{\"a\":\"\xff\"}") == "malformed_request");  // invalid UTF-8
}

TEST_CASE("duplicate keys are refused at every level") {
  CHECK(failure_code(R"({"amount":1,"amount":2})") == "malformed_request");
  CHECK(failure_code(R"({"a":{"b":1,"b":2}})") == "malformed_request");
  CHECK(failure_code(R"({"a":{"b":1},"c":{"b":2}})").empty());
}

TEST_CASE("nesting deeper than 8 levels is refused") {
  std::string ok = "{\"a\":" + std::string(6, '[') + std::string(6, ']') + "}";
  CHECK(failure_code(ok).empty());
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(failure_code(deep) == "malformed_request");
}

TEST_CASE("amounts are positive integers of at most 2^53 minor units") {
  CHECK(*required_amount(parsed(R"({"amount":1})"), "amount") == 1);
  CHECK(*required_amount(parsed(R"({"amount":9007199254740992})"), "amount") == max_amount);
  for (const char* bad : {R"({"amount":0})", R"({"amount":-1})", R"({"amount":1.5})", R"({"amount":1.0})",
                          R"({"amount":"10"})", R"({"amount":true})", R"({"amount":null})", R"({})",
                          R"({"amount":9007199254740993})", R"({"amount":18446744073709551615})",
                          R"({"amount":1e3})", R"({"amount":[1]})"}) {
    INFO(bad);
    auto r = required_amount(parsed(bad), "amount");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == bankd::http::status::unprocessable_entity);
  }
  // Valid JSON whose number no field accepts: invalid content, not malformed.
  CHECK(failure_code(R"({"amount":1e400})") == "validation_failed");
}

TEST_CASE("ids are positive 64-bit integers") {
  CHECK(*required_id(parsed(R"({"id":9223372036854775807})"), "id") == INT64_MAX);
  CHECK_FALSE(required_id(parsed(R"({"id":9223372036854775808})"), "id"));
  CHECK_FALSE(required_id(parsed(R"({"id":0})"), "id"));
  CHECK_FALSE(required_id(parsed(R"({"id":"1"})"), "id"));
  CHECK(optional_id(parsed(R"({})"), "id")->has_value() == false);
}

TEST_CASE("unknown fields are refused") {
  auto body = parsed(R"({"amount":1,"ammount":2})");
  auto r = only_fields(body, {"amount"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("ammount") != std::string::npos);
  CHECK(only_fields(parsed(R"({"amount":1})"), {"amount", "currency"}));
}

TEST_CASE("text fields: type, length in characters, no NUL, not blank") {
  CHECK(*required_text(parsed(R"({"name":"Zoë"})"), "name", 3) == "Zoë");
  CHECK_FALSE(required_text(parsed(R"({"name":"Zoëy"})"), "name", 3));
  CHECK_FALSE(required_text(parsed(R"({"name":"   "})"), "name", 10));
  CHECK_FALSE(required_text(parsed(R"({"name":"a\u0000b"})"), "name", 10));
  CHECK_FALSE(required_text(parsed(R"({"name":5})"), "name", 10));
  CHECK(*required_text(parsed(R"({"name":"Robert'); DROP TABLE users;--"})"), "name", 100) ==
        "Robert'); DROP TABLE users;--");
  CHECK_FALSE(optional_text(parsed(R"({})"), "reference", 10)->has_value());
}

TEST_CASE("currencies are three upper-case letters") {
  CHECK(is_currency("EUR"));
  CHECK_FALSE(is_currency("eur"));
  CHECK_FALSE(is_currency("EURO"));
  CHECK_FALSE(is_currency("E1R"));
  CHECK_FALSE(optional_currency(parsed(R"({"currency":"usd"})"), "currency"));
  CHECK(**optional_currency(parsed(R"({"currency":"USD"})"), "currency") == "USD");
}

TEST_CASE("emails need one @ with something on both sides and no spaces") {
  CHECK(is_email("a@b.c"));
  CHECK_FALSE(is_email("ab.c"));
  CHECK_FALSE(is_email("@b.c"));
  CHECK_FALSE(is_email("a@"));
  CHECK_FALSE(is_email("a b@c.d"));
  CHECK_FALSE(is_email("a@b@c"));
  CHECK_FALSE(is_email(std::string(250, 'a') + "@b.com"));
}

TEST_CASE("path ids are 1..19 digits and positive") {
  CHECK(parse_path_id("42") == 42);
  CHECK(parse_path_id("9223372036854775807") == INT64_MAX);
  for (const char* bad : {"", "0", "-1", "+1", " 1", "1 ", "1.0", "..", "%2F", "99999999999999999999",
                          "9223372036854775808", "0x10", "١"})
    CHECK_FALSE(parse_path_id(bad));
}

TEST_CASE("character counts are in code points") {
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("Zoë") == 3);
  CHECK(utf8_length("€€") == 2);
  CHECK(utf8_length("🏦") == 1);
}
