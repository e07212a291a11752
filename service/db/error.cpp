#include "db/error.hpp"

#include <boost/throw_exception.hpp>

#include <ostream>
#include <stdexcept>

namespace bankd::db {
namespace {

class category_impl final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "bankd.db"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::serialization_failure: return "serialization failure";
      case errc::deadlock_detected: return "deadlock detected";
      case errc::unique_violation: return "unique violation";
      case errc::check_violation: return "check violation";
      case errc::foreign_key_violation: return "foreign key violation";
      case errc::not_null_violation: return "not-null violation";
      case errc::numeric_out_of_range: return "numeric value out of range";
      case errc::server_error: return "database server error";
      case errc::connection_lost: return "database connection lost";
      case errc::timeout: return "database operation timed out";
      case errc::cancelled: return "database operation cancelled";
      case errc::pool_exhausted: return "connection pool exhausted";
      case errc::pool_closed: return "connection pool closed";
      case errc::unavailable: return "database unavailable";
      case errc::protocol_error: return "unexpected database protocol state";
      case errc::read_only: return "database is read-only";
      case errc::statement_timeout: return "statement cancelled by the server";
      case errc::lock_timeout: return "lock wait timed out on the server";
    }
    return "unknown database error";
  }
};

}  // namespace

const boost::system::error_category& db_category() noexcept {
  static const category_impl instance;
  return instance;
}

errc classify_sqlstate(std::string_view sqlstate) noexcept {
  if (sqlstate == "40001") return errc::serialization_failure;
  if (sqlstate == "40P01") return errc::deadlock_detected;
  if (sqlstate == "23505") return errc::unique_violation;
  if (sqlstate == "23514") return errc::check_violation;
  if (sqlstate == "23503") return errc::foreign_key_violation;
  if (sqlstate == "23502") return errc::not_null_violation;
  if (sqlstate == "22003") return errc::numeric_out_of_range;
  // read_only_sql_transaction: a write on a standby or under
  // default_transaction_read_only. (0A000 from a standby, for BEGIN ...
  // SERIALIZABLE, is told apart by the connection, which knows the server.)
  if (sqlstate == "25006") return errc::read_only;
  if (sqlstate == "57014") return errc::statement_timeout;
  if (sqlstate == "55P03") return errc::lock_timeout;
  // Class 08 (connection exception) and 57P01..57P03 (admin shutdown, crash
  // shutdown, cannot connect now) mean this session is gone.
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03")
    return errc::connection_lost;
  return errc::server_error;
}

bool is_retryable(const boost::system::error_code& ec) noexcept {
  return ec == errc::serialization_failure || ec == errc::deadlock_detected;
}

error error::client(errc e, std::string message) {
  error err;
  err.code = make_error_code(e);
  err.message = std::move(message);
  return err;
}

std::ostream& operator<<(std::ostream& out, const error& e) {
  out << e.code.message();
  if (!e.message.empty()) out << ": " << e.message;
  if (!e.sqlstate.empty()) out << " (SQLSTATE " << e.sqlstate << ")";
  return out;
}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(
      boost::system::system_error(e.code, e.message.empty() ? e.code.message() : e.message),
      loc);
}

}  // namespace bankd::db
