#pragma once
// Invariants the fuzz targets check on bankd's input readers. A broken one
// prints what broke and aborts, which libFuzzer reports as a crash and saves
// the input that caused it.

#include "api/api_error.hpp"
#include "api/json_input.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace bankd::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// A refused input earns one of the statuses docs/api.md gives to bad input,
// and becomes the JSON error response bankd sends (which must not throw).
inline void check_refusal(const api::api_error& e) {
  using http::status;
  check(e.status == status::bad_request || e.status == status::unsupported_media_type ||
            e.status == status::unprocessable_entity || e.status == status::not_found,
        "a refused input got an unexpected status");
  try {
    const auto res = api::to_response(e);
    check(res.result() == e.status, "the response status differs from the error's");
    const auto body = nlohmann::json::parse(res.body());
    check(body.at("error").at("code").get<std::string>() == e.code,
          "the response names another code");
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "%s\n", ex.what());
    fail("an error could not be turned into a response");
  }
}

// An id taken from text: positive, 1..19 digits, and the number written.
inline void check_id(std::int64_t id, std::string_view text) {
  check(id > 0, "an accepted id is not positive");
  check(!text.empty() && text.size() <= 19, "an accepted id has the wrong length");
  check(std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }),
        "an accepted id has a character that is not a digit");
  const auto significant = text.substr(std::min(text.find_first_not_of('0'), text.size()));
  check(std::to_string(id) == significant, "an accepted id is not the number written");
}

inline const nlohmann::json* present(const nlohmann::json& body, const std::string& field) {
  const auto it = body.find(field);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

inline void check_ids(const nlohmann::json& body, const std::string& field) {
  const auto optional = api::optional_id(body, field);
  const auto required = api::required_id(body, field);
  if (!required) check_refusal(required.error());
  if (!optional) {
    check_refusal(optional.error());
    check(!required, "required_id accepts what optional_id refuses");
    return;
  }
  if (!*optional) {
    check(!required, "required_id accepted a missing field");
    return;
  }
  check(**optional > 0, "an accepted id is not positive");
  check(required && *required == **optional, "required_id and optional_id disagree");
  check(present(body, field)->is_number_integer(), "an id was accepted from a non-integer");
}

inline void check_amount(const nlohmann::json& body, const std::string& field) {
  const auto amount = api::required_amount(body, field);
  if (!amount) return check_refusal(amount.error());
  check(*amount >= 1 && *amount <= api::max_amount, "an accepted amount is outside 1..2^53");
  const auto* value = present(body, field);
  check(value != nullptr && value->is_number_integer(),
        "an amount was accepted from a non-integer");
  check(*value == nlohmann::json(*amount), "an accepted amount differs from the JSON number");
}

inline void check_text(const nlohmann::json& body, const std::string& field,
                       std::size_t max_chars) {
  const auto text = api::optional_text(body, field, max_chars);
  if (!text) return check_refusal(text.error());
  const auto required = api::required_text(body, field, max_chars);
  if (!required) check_refusal(required.error());
  if (!*text) {
    check(!required, "required_text accepted a missing field");
    return;
  }
  const auto& s = **text;
  check(s.find('\0') == std::string::npos, "accepted text holds a NUL");
  check(api::utf8_length(s) <= max_chars, "accepted text is too long");
  check(s == present(body, field)->get<std::string>(),
        "accepted text differs from the JSON string");
  if (required) check(*required == s, "required_text and optional_text disagree");
  if (api::is_email(s))
    check(s.find('@') != std::string::npos && s.size() >= 3, "a bad email was accepted");
}

inline void check_currency(const nlohmann::json& body, const std::string& field) {
  const auto currency = api::optional_currency(body, field);
  if (!currency) return check_refusal(currency.error());
  if (*currency)
    check(api::is_currency(**currency), "an accepted currency is not three capital letters");
}

}  // namespace bankd::fuzz
