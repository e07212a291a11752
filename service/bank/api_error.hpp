#pragma once
// Domain outcomes that end a request, as values: the HTTP status, a stable
// machine-readable code and a message for humans. Handlers return them; one
// function turns them into the JSON error body.

#include "db/error.hpp"
#include "http/message.hpp"

#include <boost/system/result.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace bankd::bank {

struct api_error {
  http::status status;
  std::string_view code;  // e.g. "insufficient_funds"; always a string literal
  std::string message;
  bool retry_later = false;  // 503 with Retry-After
};

template <class T>
using outcome = boost::system::result<T, api_error>;

[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);

api_error malformed(std::string message);    // 400
api_error invalid(std::string message);      // 422 validation_failed
api_error not_found(std::string message);    // 404
api_error forbidden(std::string message);    // 403
api_error conflict(std::string_view code, std::string message);  // 409

// Database trouble that is not the client's fault: 503 with Retry-After for
// transient conditions (pool exhausted, database unreachable, retries used
// up), 500 for the rest. Logged here, with the server's diagnostics.
api_error from_db_error(const db::error& e, std::string_view operation);

http::response to_response(const api_error& e);

// "409 insufficient_funds: account 7 has insufficient funds", for logs and tests.
std::ostream& operator<<(std::ostream& out, const api_error& e);

}  // namespace bankd::bank
