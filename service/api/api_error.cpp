#include "api/api_error.hpp"

#include <boost/throw_exception.hpp>

#include <ostream>
#include <stdexcept>

namespace bankd::api {

void throw_exception_from_error(const api_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(std::string(e.code) + ": " + e.message), loc);
}

api_error malformed(std::string message) {
  return {http::status::bad_request, "malformed_request", std::move(message)};
}
api_error invalid(std::string message) {
  return {http::status::unprocessable_entity, "validation_failed", std::move(message)};
}
api_error not_found(std::string message) {
  return {http::status::not_found, "not_found", std::move(message)};
}
api_error forbidden(std::string message) {
  return {http::status::forbidden, "forbidden", std::move(message)};
}

api_error hiding_others(const bank::error& e, std::string missing) {
  if (e.code == bank::errc::forbidden || e.code == bank::errc::not_found) return not_found(std::move(missing));
  return from_bank(e);
}

api_error hiding_others_debit(const bank::error& e, std::int64_t from_account) {
  if (e.code == bank::errc::forbidden)
    return {http::status::not_found, "account_not_found",
            "account " + std::to_string(from_account) + " does not exist"};
  return from_bank(e);
}

namespace {

http::status status_of(bank::errc e) {
  using bank::errc;
  switch (e) {
    case errc::invalid:
    case errc::same_account:
    case errc::currency_mismatch:
    case errc::idempotency_key_reused:
    case errc::amount_exceeds_pending:
    case errc::url_not_allowed: return http::status::unprocessable_entity;
    case errc::forbidden: return http::status::forbidden;
    case errc::not_found:
    case errc::account_not_found: return http::status::not_found;
    case errc::insufficient_funds:
    case errc::account_closed:
    case errc::account_frozen:
    case errc::email_taken:
    case errc::balance_not_zero:
    case errc::user_holds_money:
    case errc::transfer_refused:
    case errc::batch_failed:
    case errc::transfer_not_pending:
    case errc::transfer_not_reversible:
    case errc::reversal_exceeds_remainder:
    case errc::limit_reached: return http::status::conflict;
    case errc::rate_limited: return http::status::too_many_requests;
    case errc::service_unavailable:
    case errc::outcome_unknown:
    case errc::retries_exhausted: return http::status::service_unavailable;
    case errc::internal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

}  // namespace

api_error from_bank(const bank::error& e) {
  const auto status = status_of(e.code);
  const bool later = status == http::status::service_unavailable || status == http::status::too_many_requests;
  return {status, bank::code_name(e.code), e.message, later, e.note};
}

std::ostream& operator<<(std::ostream& out, const api_error& e) {
  return out << static_cast<unsigned>(e.status) << " " << e.code << ": " << e.message;
}

http::response to_response(const api_error& e) {
  auto res = http::error_response(e.status, e.code, e.message);
  if (e.retry_later) res.set(http::beast_http::field::retry_after, "1");
  if (e.status == http::status::unauthorized)
    res.set(http::beast_http::field::www_authenticate, "Bearer");
  return res;
}

}  // namespace bankd::api
