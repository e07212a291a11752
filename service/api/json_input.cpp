#include "api/json_input.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_set>
#include <vector>

namespace bankd::api {
using nlohmann::json;

namespace {

constexpr int max_nesting = 8;

struct input_rejected {
  std::string message;
};

std::string field_name(std::string_view field) {
  // Built piecewise: GCC 12 raises a false -Wrestrict on "'" + std::string(...).
  std::string quoted;
  quoted.reserve(field.size() + 2);
  quoted.push_back('\'');
  quoted.append(field);
  quoted.push_back('\'');
  return quoted;
}

const json* find(const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

bool media_type_is_json(std::string_view content_type) {
  const auto type = content_type.substr(0, content_type.find(';'));
  auto trimmed = type;
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  return boost::beast::iequals(trimmed, "application/json");
}

outcome<std::int64_t> positive_integer(const json& value, std::string_view field,
                                       std::int64_t max, const char* what) {
  if (!value.is_number_integer())  // also false for 1.0, "1", true
    return invalid(field_name(field) + " must be " + what);
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n == 0 || n > static_cast<std::uint64_t>(max))
      return invalid(field_name(field) + " must be " + what + " no larger than " + std::to_string(max));
    return static_cast<std::int64_t>(n);
  }
  const auto n = value.get<std::int64_t>();
  if (n <= 0) return invalid(field_name(field) + " must be " + what);
  if (n > max)
    return invalid(field_name(field) + " must be " + what + " no larger than " + std::to_string(max));
  return n;
}

}  // namespace

outcome<json> parse_object(const http::request& req) {
  if (!media_type_is_json(req[http::beast_http::field::content_type]))
    return api_error{http::status::unsupported_media_type, "unsupported_media_type",
                     "request body must be application/json"};
  return parse_object_text(req.body());
}

outcome<json> parse_object_text(std::string_view text) {
  std::vector<std::unordered_set<std::string>> open_objects;
  auto guard = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= max_nesting) throw input_rejected{"JSON nested deeper than 8 levels"};
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second)
          throw input_rejected{"duplicate key " + field_name(parsed.get<std::string>())};
        break;
      case json::parse_event_t::object_end: open_objects.pop_back(); break;
      default: break;
    }
    return true;
  };
  try {
    json body = json::parse(text.begin(), text.end(), guard);
    if (!body.is_object()) return malformed("request body must be a JSON object");
    return outcome<json>(boost::system::in_place_value, std::move(body));
  } catch (const input_rejected& e) {
    return malformed(e.message);
  } catch (const json::out_of_range&) {
    // Valid JSON (RFC 8259 sets no limit on exponents) with a value no field accepts.
    return invalid("a number in the request is out of range");
  } catch (const json::exception& e) {
    return malformed(std::string("malformed JSON: ") + e.what());
  }
}

outcome<void> only_fields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return invalid("unknown field " + field_name(key));
  }
  return {};
}

outcome<std::int64_t> required_id(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return invalid(field_name(field) + " is required");
  return positive_integer(*value, field, std::numeric_limits<std::int64_t>::max(), "a positive integer id");
}

outcome<std::optional<std::int64_t>> optional_id(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::int64_t>{};
  auto id = positive_integer(*value, field, std::numeric_limits<std::int64_t>::max(), "a positive integer id");
  if (!id) return id.error();
  return std::optional<std::int64_t>{*id};
}

outcome<std::int64_t> required_amount(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return invalid(field_name(field) + " is required");
  return positive_integer(*value, field, max_amount, "a positive integer number of minor units");
}

outcome<std::string> required_text(const json& body, std::string_view field, std::size_t max_chars) {
  auto text = optional_text(body, field, max_chars);
  if (!text) return text.error();
  if (!*text) return invalid(field_name(field) + " is required");
  const auto& s = **text;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; }))
    return invalid(field_name(field) + " must not be blank");
  return std::move(**text);
}

outcome<std::optional<std::string>> optional_text(const json& body, std::string_view field,
                                                  std::size_t max_chars) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::string>{};
  if (!value->is_string()) return invalid(field_name(field) + " must be a string");
  auto text = value->get<std::string>();
  if (text.find('\0') != std::string::npos)
    return invalid(field_name(field) + " must not contain NUL characters");
  if (utf8_length(text) > max_chars)
    return invalid(field_name(field) + " must be at most " + std::to_string(max_chars) + " characters");
  return std::optional<std::string>{std::move(text)};
}

outcome<std::optional<std::string>> optional_currency(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::string>{};
  if (!value->is_string() || !is_currency(value->get<std::string>()))
    return invalid(field_name(field) + " must be an ISO 4217 code such as \"EUR\"");
  return std::optional<std::string>{value->get<std::string>()};
}

outcome<std::optional<std::int64_t>> optional_amount(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::int64_t>{};
  auto amount = positive_integer(*value, field, max_amount, "a positive integer number of minor units");
  if (!amount) return amount.error();
  return std::optional<std::int64_t>{*amount};
}

outcome<std::optional<bool>> optional_bool(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<bool>{};
  if (!value->is_boolean()) return invalid(field_name(field) + " must be true or false");
  return std::optional<bool>{value->get<bool>()};
}

outcome<std::optional<std::int64_t>> optional_integer(const json& body, std::string_view field, std::int64_t min,
                                                      std::int64_t max) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::int64_t>{};
  const auto refused =
      invalid(field_name(field) + " must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  if (!value->is_number_integer()) return refused;
  if (value->is_number_unsigned()) {  // above INT64_MAX, or non-negative
    const auto n = value->get<std::uint64_t>();
    if (max < 0 || n > static_cast<std::uint64_t>(max) || static_cast<std::int64_t>(n) < min) return refused;
    return std::optional<std::int64_t>{static_cast<std::int64_t>(n)};
  }
  const auto n = value->get<std::int64_t>();
  if (n < min || n > max) return refused;
  return std::optional<std::int64_t>{n};
}

outcome<std::optional<std::string>> optional_metadata(const json& body, std::string_view field) {
  const json* value = find(body, field);
  if (value == nullptr) return std::optional<std::string>{};
  const auto name = field_name(field);
  if (!value->is_object()) return invalid(name + " must be a JSON object with string values");
  if (value->size() > max_metadata_keys)
    return invalid(name + " has " + std::to_string(value->size()) + " keys; at most " +
                   std::to_string(max_metadata_keys) + " are allowed");
  for (const auto& [key, item] : value->items()) {
    const auto chars = utf8_length(key);
    if (chars == 0 || chars > max_metadata_key_chars)
      return invalid(name + " keys must be 1.." + std::to_string(max_metadata_key_chars) + " characters");
    if (!item.is_string()) return invalid(name + "." + key + " must be a string");
    if (key.find('\0') != std::string::npos || item.get_ref<const std::string&>().find('\0') != std::string::npos)
      return invalid(name + " must not contain NUL characters");
  }
  auto text = value->dump();
  if (text.size() > max_metadata_bytes)
    return invalid(name + " is " + std::to_string(text.size()) + " bytes as JSON; at most " +
                   std::to_string(max_metadata_bytes) + " are allowed");
  return std::optional<std::string>{std::move(text)};
}

namespace {

// Digits at text[at, at + n) as a number, or -1.
int digits(std::string_view text, std::size_t at, std::size_t n) noexcept {
  if (at + n > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

int days_in_month(int year, int month) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

}  // namespace

bool is_rfc3339(std::string_view t) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)
  const int year = digits(t, 0, 4), month = digits(t, 5, 2), day = digits(t, 8, 2);
  const int hour = digits(t, 11, 2), minute = digits(t, 14, 2), second = digits(t, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59)
    return false;
  if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':') return false;
  if (day > days_in_month(year, month)) return false;
  std::size_t at = 19;
  if (at < t.size() && t[at] == '.') {
    const auto start = ++at;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') ++at;
    if (at == start || at - start > 9) return false;
  }
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) return at + 1 == t.size();
  if (at >= t.size() || (t[at] != '+' && t[at] != '-')) return false;
  const int off_hour = digits(t, at + 1, 2), off_minute = digits(t, at + 4, 2);
  return at + 6 == t.size() && t[at + 3] == ':' && off_hour >= 0 && off_hour <= 23 && off_minute >= 0 &&
         off_minute <= 59;
}

bool is_currency(std::string_view text) noexcept {
  return text.size() == 3 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_email(std::string_view text) noexcept {
  if (text.size() < 3 || text.size() > 254) return false;
  const auto at = text.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= text.size()) return false;
  if (text.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
}

std::size_t utf8_length(std::string_view text) noexcept {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // count lead bytes only
  }));
}

std::optional<std::int64_t> parse_path_id(std::string_view segment) noexcept {
  if (segment.empty() || segment.size() > 19) return std::nullopt;
  if (!std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), id);
  if (ec != std::errc{} || end != segment.data() + segment.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace bankd::api
