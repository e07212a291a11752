#pragma once
// A blocking, read-only PostgreSQL session for the ledger checks: the session
// has default_transaction_read_only on, and all queries run in one REPEATABLE
// READ READ ONLY transaction, so every check sees the same snapshot. Failures
// throw std::runtime_error with the server's message.

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

namespace bankd::loadtest {

class pg_reader {
 public:
  using row = std::vector<std::string>;  // NULL reads as ""

  explicit pg_reader(const std::string& database_url);
  pg_reader(const pg_reader&) = delete;
  pg_reader& operator=(const pg_reader&) = delete;
  ~pg_reader();

  std::vector<row> query(const std::string& sql, const std::vector<std::string>& params = {});

 private:
  void exec(const std::string& sql);
  PGconn* conn_;
};

}  // namespace bankd::loadtest
