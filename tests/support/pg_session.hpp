#pragma once
// A blocking libpq session for test set-up and assertions (never used by bankd
// itself). Every failure throws std::runtime_error with the server's message.

#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bankd::test {

using row = std::vector<std::string>;  // NULL reads as "<null>"

class pg_session {
public:
  explicit pg_session(const std::string& conninfo);
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;
  ~pg_session();

  // Runs SQL with optional text parameters ($1, $2, ...); returns all rows.
  std::vector<row> query(const std::string& sql, const std::vector<std::string>& params = {});
  // The single value of a one-row, one-column query.
  std::string scalar(const std::string& sql, const std::vector<std::string>& params = {});
  std::int64_t scalar_int(const std::string& sql, const std::vector<std::string>& params = {});
  // Runs one or more statements without parameters.
  void exec(const std::string& sql);
  // SQLSTATE of the error a statement raises, or "" when it succeeds.
  std::string error_state(const std::string& sql, const std::vector<std::string>& params = {});

  PGconn* native() const noexcept { return conn_; }

private:
  PGconn* conn_;
};

}  // namespace bankd::test
