// libFuzzer target: a request body straight into bankd's strict JSON reader
// (parse_object_text) and every field reader, without the HTTP layer in
// front, so the fuzzer spends its time on JSON. Short inputs are also tried
// as an id from a URL path.
//
// Invariants (see fuzz_checks.hpp for the field readers):
//   - an accepted body is an object nested at most 8 levels, and survives
//     dump-and-parse unchanged;
//   - a refused body is 400, and its error becomes a response;
//   - only_fields with no allowed fields refuses exactly the non-empty objects.

#include "fuzz_checks.hpp"

#include "api/json_input.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace api = bankd::api;
using bankd::fuzz::check;
using nlohmann::json;

int depth(const json& value) {
  int deepest = 0;
  if (value.is_structured())
    for (const auto& child : value) deepest = std::max(deepest, depth(child));
  return value.is_structured() ? deepest + 1 : 0;
}

// The fields the endpoints read, and how.
void check_known_fields(const json& body) {
  for (const char* field : {"user_id", "from_account_id", "to_account_id"})
    bankd::fuzz::check_ids(body, field);
  bankd::fuzz::check_amount(body, "amount");
  bankd::fuzz::check_currency(body, "currency");
  bankd::fuzz::check_text(body, "name", 200);
  bankd::fuzz::check_text(body, "email", 254);
  bankd::fuzz::check_text(body, "reference", 140);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 24)
    if (const auto id = api::parse_path_id(text)) bankd::fuzz::check_id(*id, text);

  const auto body = api::parse_object_text(text);
  if (!body) {
    // 400: not JSON, not an object, too deep, duplicate keys; 422: valid JSON
    // with a number beyond a double's range.
    check(body.error().status == bankd::http::status::bad_request ||
              body.error().status == bankd::http::status::unprocessable_entity,
          "a body was refused with a status other than 400 or 422");
    bankd::fuzz::check_refusal(body.error());
    return 0;
  }
  check(body->is_object(), "an accepted body is not an object");
  check(depth(*body) <= 8, "an accepted body is nested deeper than 8 levels");
  const auto again = api::parse_object_text(body->dump());
  check(again.has_value() && *again == *body, "an accepted body does not survive dump and parse");

  const auto none_allowed = api::only_fields(*body, {});
  check(none_allowed.has_value() == body->empty(), "only_fields({}) disagrees with emptiness");
  if (!none_allowed) bankd::fuzz::check_refusal(none_allowed.error());

  check_known_fields(*body);
  // Whatever keys the input has, read as each kind of field.
  for (const auto& [key, value] : body->items()) {
    bankd::fuzz::check_ids(*body, key);
    bankd::fuzz::check_amount(*body, key);
    bankd::fuzz::check_currency(*body, key);
    bankd::fuzz::check_text(*body, key, 140);
  }
  return 0;
}
