#pragma once
// Strict reading of JSON request bodies. A payment API should refuse what it
// does not understand rather than guess: bodies must be application/json
// objects, nested at most 8 levels, with no duplicate keys and no unknown
// fields; numbers for money and ids must be exact integers.

#include "api/api_error.hpp"
#include "http/message.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::api {

// The largest amount accepted: 2^53, the largest integer every JSON client
// (JavaScript included) represents exactly.
inline constexpr std::int64_t max_amount = std::int64_t{1} << 53;

// 415 unless Content-Type is application/json; 400 unless the body is a JSON
// object within the limits above.
outcome<nlohmann::json> parse_object(const http::request& req);
// The same rules for a string (used by tests and the fuzzer).
outcome<nlohmann::json> parse_object_text(std::string_view text);

// 422 when `body` has a key outside `allowed`.
outcome<void> only_fields(const nlohmann::json& body, std::initializer_list<std::string_view> allowed);

// Field readers: 422 with a message naming the field when the value is
// missing (required ones) or has the wrong type or range.
outcome<std::int64_t> required_id(const nlohmann::json& body, std::string_view field);
outcome<std::optional<std::int64_t>> optional_id(const nlohmann::json& body, std::string_view field);
outcome<std::int64_t> required_amount(const nlohmann::json& body, std::string_view field);
outcome<std::string> required_text(const nlohmann::json& body, std::string_view field,
                                   std::size_t max_chars);
outcome<std::optional<std::string>> optional_text(const nlohmann::json& body,
                                                  std::string_view field, std::size_t max_chars);
outcome<std::optional<std::string>> optional_currency(const nlohmann::json& body,
                                                      std::string_view field);

outcome<std::optional<std::int64_t>> optional_amount(const nlohmann::json& body, std::string_view field);
outcome<std::optional<bool>> optional_bool(const nlohmann::json& body, std::string_view field);
// An integer in [min, max], or absent.
outcome<std::optional<std::int64_t>> optional_integer(const nlohmann::json& body, std::string_view field,
                                                      std::int64_t min, std::int64_t max);

// Metadata: a JSON object of at most max_metadata_keys keys (each 1..64
// characters) with string values, at most max_metadata_bytes as compact
// JSON, no NUL characters (PostgreSQL's jsonb cannot store them). The
// result is the compact JSON text, keys sorted.
inline constexpr std::size_t max_metadata_bytes = 4096;
inline constexpr std::size_t max_metadata_keys = 50;
inline constexpr std::size_t max_metadata_key_chars = 64;
outcome<std::optional<std::string>> optional_metadata(const nlohmann::json& body, std::string_view field);

// RFC 3339 date-time (2026-12-01T09:37:00Z, 2026-12-01T10:37:00.123456+01:00),
// years 0001..9999, every field in range (leap years, leap seconds are not).
bool is_rfc3339(std::string_view text) noexcept;

bool is_currency(std::string_view text) noexcept;
bool is_email(std::string_view text) noexcept;
// Characters (UTF-8 code points) in valid UTF-8 text.
std::size_t utf8_length(std::string_view text) noexcept;

// An id from a URL path segment: 1..19 digits, positive. Anything else
// (signs, spaces, "..", percent-escapes) names no resource.
std::optional<std::int64_t> parse_path_id(std::string_view segment) noexcept;

}  // namespace bankd::api
