#include "bank/api_error.hpp"

#include "util/log.hpp"
#include "util/log_throttle.hpp"

#include <boost/throw_exception.hpp>

#include <ostream>
#include <stdexcept>

namespace bankd::bank {

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
api_error conflict(std::string_view code, std::string message) {
  return {http::status::conflict, code, std::move(message)};
}

api_error from_db_error(const db::error& e, std::string_view operation) {
  using db::errc;
  const auto kind = static_cast<errc>(e.code.value());
  const bool ours = e.code.category() == db::db_category();
  if (ours && (kind == errc::serialization_failure || kind == errc::deadlock_detected)) {
    log::warn("bank.retries_exhausted").kv("operation", operation).kv("sqlstate", e.sqlstate);
    return {http::status::service_unavailable, "retries_exhausted",
            "too much contention on these accounts; retry later", true};
  }
  if (ours && (kind == errc::pool_exhausted || kind == errc::unavailable ||
               kind == errc::connection_lost || kind == errc::timeout || kind == errc::pool_closed ||
               kind == errc::read_only)) {
    // Every request of an outage ends here: one line per cause per second.
    if (const auto held_back = util::log_throttle::shared().admit(e.code.message()))
      log::warn("bank.database_unavailable")
          .kv("operation", operation)
          .kv("error", e.code.message())
          .kv("detail", e.message)
          .kv("suppressed", *held_back);
    return {http::status::service_unavailable, "database_unavailable",
            "the database is unavailable; retry later", true};
  }
  log::error("bank.database_error")
      .kv("operation", operation)
      .kv("error", e.code.message())
      .kv("sqlstate", e.sqlstate)
      .kv("message", e.message)
      .kv("detail", e.detail)
      .kv("constraint", e.constraint);
  return {http::status::internal_server_error, "internal_error", "internal error"};
}

std::ostream& operator<<(std::ostream& out, const api_error& e) {
  return out << static_cast<unsigned>(e.status) << " " << e.code << ": " << e.message;
}

http::response to_response(const api_error& e) {
  if (e.retry_later) return http::unavailable_response(e.code, e.message);
  auto res = http::error_response(e.status, e.code, e.message);
  if (e.status == http::status::unauthorized)
    res.set(http::beast_http::field::www_authenticate, "Bearer");
  return res;
}

}  // namespace bankd::bank
