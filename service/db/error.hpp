#pragma once
// Errors of the database layer as values. Every failure carries an error_code in
// bankd::db::errc (what the caller acts on) and, when the server produced it,
// the SQLSTATE, message, detail and constraint name (what an operator reads).

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

namespace bankd::db {

enum class errc {
  // Server-side outcomes, classified from SQLSTATE.
  serialization_failure = 1,  // 40001
  deadlock_detected,          // 40P01
  unique_violation,           // 23505
  check_violation,            // 23514
  foreign_key_violation,      // 23503
  not_null_violation,         // 23502
  numeric_out_of_range,       // 22003
  server_error,               // any other SQLSTATE
  // Client-side outcomes.
  connection_lost,  // socket closed or broken; a COMMIT in flight has an unknown outcome
  timeout,          // the operation's deadline passed; the connection was discarded
  cancelled,        // the awaiting coroutine was cancelled; the connection was discarded
  pool_exhausted,   // no connection became free before the acquire deadline
  pool_closed,      // the pool is shutting down
  unavailable,      // the database cannot be reached right now (fail fast)
  protocol_error,   // libpq returned something the pipeline did not expect
  // Server-side again: the server takes no writes (25006, or 0A000 from a hot
  // standby), being a standby or read-only by default. Fail fast: a failover
  // or an operator has to change that; the connection is discarded.
  read_only,
  // The server gave up on a statement and rolled its transaction back:
  statement_timeout,  // 57014 query_canceled (statement_timeout, or a cancel request)
  lock_timeout,       // 55P03 lock_not_available (lock_timeout)
};

const boost::system::error_category& db_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), db_category()};
}

// Maps a five-character SQLSTATE to the kind callers act on.
errc classify_sqlstate(std::string_view sqlstate) noexcept;

// True only for the outcomes that justify re-running a whole transaction.
bool is_retryable(const boost::system::error_code& ec) noexcept;

struct error {
  boost::system::error_code code;
  std::string sqlstate;    // empty for client-side errors
  std::string message;     // primary message, for logs
  std::string detail;      // server DETAIL, for logs
  std::string constraint;  // violated constraint name, when the server names one

  static error client(errc e, std::string message);
};

// "connection pool exhausted: no connection became free in time (SQLSTATE ...)"
std::ostream& operator<<(std::ostream& out, const error& e);

// boost::system::result calls this when value() is used on an error.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

}  // namespace bankd::db

template <>
struct boost::system::is_error_code_enum<bankd::db::errc> : std::true_type {};
