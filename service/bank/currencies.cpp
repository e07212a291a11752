#include "bank/currencies.hpp"

#include <algorithm>
#include <stdexcept>

namespace bankd::bank {

namespace {

bool is_code(std::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

currency_list::entry parse_entry(std::string_view item) {
  const auto colon = item.find(':');
  const auto code = item.substr(0, colon);
  const auto exponent = colon == std::string_view::npos ? std::string_view{} : item.substr(colon + 1);
  if (!is_code(code) || exponent.size() != 1 || exponent[0] < '0' || exponent[0] > '4')
    throw std::invalid_argument("--currencies: '" + std::string(item) +
                                "' is not CODE:EXPONENT (ISO 4217 code, exponent 0..4)");
  return {std::string(code), exponent[0] - '0'};
}

}  // namespace

currency_list currency_list::parse(std::string_view spec) {
  currency_list list;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const auto comma = std::min(spec.find(',', start), spec.size());
    auto item = spec.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) list.entries_.push_back(parse_entry(item));
    start = comma + 1;
  }
  if (list.entries_.empty()) throw std::invalid_argument("--currencies: give at least one currency");
  std::sort(list.entries_.begin(), list.entries_.end(), [](const entry& a, const entry& b) { return a.code < b.code; });
  const auto twice = std::adjacent_find(list.entries_.begin(), list.entries_.end(),
                                        [](const entry& a, const entry& b) { return a.code == b.code; });
  if (twice != list.entries_.end()) throw std::invalid_argument("--currencies: " + twice->code + " is given twice");
  return list;
}

std::optional<int> currency_list::exponent(std::string_view code) const noexcept {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), code,
                                   [](const entry& e, std::string_view c) { return e.code < c; });
  if (it == entries_.end() || it->code != code) return std::nullopt;
  return it->exponent;
}

}  // namespace bankd::bank
