#include "db/statement.hpp"

#include <charconv>
#include <stdexcept>

namespace bankd::db {

params& params::add(std::int64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return add(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

params& params::add(bool value) { return add(std::string_view(value ? "true" : "false")); }

params& params::add(std::string_view value) {
  if (value.find('\0') != std::string_view::npos)
    throw std::invalid_argument("SQL text parameter contains a NUL byte");
  slots_.push_back({storage_.size(), false});
  storage_.append(value);
  storage_.push_back('\0');
  return *this;
}

params& params::add_array(const std::vector<std::int64_t>& values) {
  slots_.push_back({storage_.size(), false});
  storage_.push_back('{');
  char buf[24];
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) storage_.push_back(',');
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, values[i]);
    (void)ec;
    storage_.append(buf, static_cast<std::size_t>(end - buf));
  }
  storage_.append("}");
  storage_.push_back('\0');
  return *this;
}

array_literal& array_literal::add(std::int64_t value) {
  separate();
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  text_.append(buf, static_cast<std::size_t>(end - buf));
  return *this;
}

array_literal& array_literal::add(std::string_view value) {
  separate();
  text_.push_back('"');
  for (const char c : value) {
    if (c == '"' || c == '\\') text_.push_back('\\');
    text_.push_back(c);
  }
  text_.push_back('"');
  return *this;
}

array_literal& array_literal::add_null() {
  separate();
  text_.append("NULL");
  return *this;
}

params& params::add_null() {
  slots_.push_back({0, true});
  return *this;
}

void params::pointers(std::vector<const char*>& out) const {
  out.clear();
  out.reserve(slots_.size());
  for (const auto& s : slots_) out.push_back(s.is_null ? nullptr : storage_.data() + s.offset);
}

}  // namespace bankd::db
