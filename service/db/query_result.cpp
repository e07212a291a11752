#include "db/query_result.hpp"

#include <charconv>
#include <stdexcept>

namespace bankd::db {

ExecStatusType query_result::status() const noexcept {
  return res_ ? PQresultStatus(res_.get()) : PGRES_FATAL_ERROR;
}

int query_result::rows() const noexcept { return res_ ? PQntuples(res_.get()) : 0; }
int query_result::columns() const noexcept { return res_ ? PQnfields(res_.get()) : 0; }

std::string_view query_result::column_name(int col) const noexcept {
  const char* name = res_ ? PQfname(res_.get(), col) : nullptr;
  return name ? std::string_view(name) : std::string_view{};
}

std::string_view query_result::command_tag() const noexcept {
  return res_ ? std::string_view(PQcmdStatus(res_.get())) : std::string_view{};
}

bool query_result::is_null(int row, int col) const noexcept {
  return !res_ || PQgetisnull(res_.get(), row, col) == 1;
}

std::string_view query_result::text(int row, int col) const {
  if (row < 0 || row >= rows() || col < 0 || col >= columns())
    throw std::logic_error("result cell out of range");
  if (is_null(row, col)) throw std::logic_error("unexpected NULL in result");
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::int64_t query_result::int64(int row, int col) const {
  const auto value = text(row, col);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size())
    throw std::logic_error("result value is not a 64-bit integer");
  return n;
}

bool query_result::boolean(int row, int col) const {
  const auto value = text(row, col);
  if (value == "t") return true;
  if (value == "f") return false;
  throw std::logic_error("result value is not a boolean");
}

std::string_view query_result::field(int diag_code) const noexcept {
  if (!res_) return {};
  const char* value = PQresultErrorField(res_.get(), diag_code);
  return value ? std::string_view(value) : std::string_view{};
}

}  // namespace bankd::db
