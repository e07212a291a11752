#pragma once
// RAII owner of a PGresult with typed accessors for the text result format.
// A value type: movable, not copyable, usable from any thread once received.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::db {

class query_result {
public:
  query_result() = default;
  explicit query_result(PGresult* res) noexcept : res_(res) {}

  explicit operator bool() const noexcept { return res_ != nullptr; }
  PGresult* native() const noexcept { return res_.get(); }
  ExecStatusType status() const noexcept;

  int rows() const noexcept;
  int columns() const noexcept;
  std::string_view column_name(int col) const noexcept;
  std::string_view command_tag() const noexcept;

  bool is_null(int row, int col) const noexcept;
  // Accessors throw std::logic_error when the value does not have the asked type:
  // that means the SQL and the code disagree, a programming error.
  std::string_view text(int row, int col) const;
  std::int64_t int64(int row, int col) const;
  bool boolean(int row, int col) const;

  // Server diagnostics of an error result.
  std::string_view field(int diag_code) const noexcept;

private:
  struct deleter {
    void operator()(PGresult* res) const noexcept { PQclear(res); }
  };
  std::unique_ptr<PGresult, deleter> res_;
};

}  // namespace bankd::db
