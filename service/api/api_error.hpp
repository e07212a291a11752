#pragma once
// Outcomes that end a request, as the HTTP side says them: a status, a
// stable machine-readable code and a message for humans. Handlers return
// them; to_response() turns them into the JSON error body. Domain errors
// become api_errors in one table, from_bank().

#include "bank/errors.hpp"
#include "http/message.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace bankd::api {

struct api_error {
  http::status status;
  std::string_view code;  // e.g. "insufficient_funds"; always a string literal
  std::string message;
  bool retry_later = false;  // 503 or 429 with Retry-After
  // The database failure behind it, logged by secured() with the request id.
  std::shared_ptr<const bank::failure_note> note;
};

template <class T>
using outcome = boost::system::result<T, api_error>;

[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);

api_error malformed(std::string message);  // 400 malformed_request
api_error invalid(std::string message);    // 422 validation_failed
api_error not_found(std::string message);  // 404 not_found
api_error forbidden(std::string message);  // 403 forbidden

// The status of every domain outcome.
api_error from_bank(const bank::error& e);

// Enumeration: a resource the caller may not see gets the answer of one that
// does not exist, byte for byte. For a path's resource: `forbidden` and
// `not_found` both become 404 not_found with `missing` as the message.
api_error hiding_others(const bank::error& e, std::string missing);
// For the debited account of a transfer: `forbidden` (another user's account)
// becomes the domain's answer for a debited account that does not exist, 404
// account_not_found "account N does not exist". What the credited side
// reveals is in docs/security.md.
api_error hiding_others_debit(const bank::error& e, std::int64_t from_account);

http::response to_response(const api_error& e);

// "409 insufficient_funds: account 7 has insufficient funds", for logs and tests.
std::ostream& operator<<(std::ostream& out, const api_error& e);

}  // namespace bankd::api
