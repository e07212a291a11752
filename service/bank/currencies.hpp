#pragma once
// The currencies accounts may be opened in: a configured allowlist of ISO 4217
// codes, each with its minor-unit exponent (2 for EUR: a balance of 1234 is
// 12.34 EUR; 0 for JPY). Money in a currency can only enter through that
// currency's funding account, made with its first account, so the list also
// bounds how many funding accounts exist.
//
// Immutable after parse(); shared by every io_context thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::bank {

class currency_list {
public:
  struct entry {
    std::string code;
    int exponent;
  };

  // "EUR:2,USD:2,JPY:0". Throws std::invalid_argument (a start-up error) for
  // a code that is not three capital letters, an exponent outside 0..4, a
  // code given twice or an empty list.
  static currency_list parse(std::string_view spec);

  // The exponent of an allowed currency; nullopt when it is not allowed.
  std::optional<int> exponent(std::string_view code) const noexcept;
  const std::vector<entry>& entries() const noexcept { return entries_; }

private:
  std::vector<entry> entries_;  // by code
};

}  // namespace bankd::bank
