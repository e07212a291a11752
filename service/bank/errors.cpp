#include "bank/errors.hpp"

#include "util/log.hpp"
#include "util/log_throttle.hpp"

#include <boost/throw_exception.hpp>

#include <ostream>
#include <stdexcept>

namespace bankd::bank {
namespace {

class category_impl final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "bankd.bank"; }
  std::string message(int value) const override {
    return std::string(code_name(static_cast<errc>(value)));
  }
};

}  // namespace

const boost::system::error_category& bank_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::string_view code_name(errc e) noexcept {
  switch (e) {
    case errc::invalid: return "validation_failed";
    case errc::same_account: return "same_account";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not_found";
    case errc::account_not_found: return "account_not_found";
    case errc::insufficient_funds: return "insufficient_funds";
    case errc::currency_mismatch: return "currency_mismatch";
    case errc::account_closed: return "account_closed";
    case errc::account_frozen: return "account_frozen";
    case errc::idempotency_key_reused: return "idempotency_key_reused";
    case errc::email_taken: return "email_taken";
    case errc::balance_not_zero: return "balance_not_zero";
    case errc::user_holds_money: return "user_holds_money";
    case errc::transfer_refused: return "transfer_refused";
    case errc::batch_failed: return "batch_failed";
    case errc::transfer_not_pending: return "transfer_not_pending";
    case errc::amount_exceeds_pending: return "amount_exceeds_pending";
    case errc::transfer_not_reversible: return "transfer_not_reversible";
    case errc::reversal_exceeds_remainder: return "reversal_exceeds_remainder";
    case errc::url_not_allowed: return "url_not_allowed";
    case errc::limit_reached: return "limit_reached";
    case errc::rate_limited: return "rate_limited";
    case errc::service_unavailable: return "service_unavailable";
    case errc::outcome_unknown: return "outcome_unknown";
    case errc::retries_exhausted: return "retries_exhausted";
    case errc::internal: return "internal_error";
  }
  return "internal_error";
}

std::ostream& operator<<(std::ostream& out, const error& e) {
  return out << code_name(e.code) << ": " << e.message;
}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(std::string(code_name(e.code)) + ": " + e.message), loc);
}

namespace {

enum class failure_kind { contention, unavailable, lost, unexpected };

failure_kind classify(const db::error& e) {
  using db::errc;
  if (e.code.category() != db::db_category()) return failure_kind::unexpected;
  switch (static_cast<errc>(e.code.value())) {
    case errc::serialization_failure:
    case errc::deadlock_detected: return failure_kind::contention;
    // The server answered that it gave up (statement_timeout, lock_timeout)
    // or cannot write (read_only): the transaction rolled back; nothing happened.
    case errc::pool_exhausted:
    case errc::unavailable:
    case errc::pool_closed:
    case errc::read_only:
    case errc::statement_timeout:
    case errc::lock_timeout: return failure_kind::unavailable;
    case errc::connection_lost:
    case errc::timeout:
    case errc::cancelled:
    case errc::protocol_error: return failure_kind::lost;
    default: return failure_kind::unexpected;
  }
}

}  // namespace

error from_db(const db::error& e, std::string_view operation, effect kind) {
  auto note = std::make_shared<const failure_note>(failure_note{std::string(operation), e, kind});
  switch (classify(e)) {
    case failure_kind::contention:
      return {bank::errc::retries_exhausted, "too much contention on these accounts; retry later", std::move(note)};
    case failure_kind::unavailable:
      return {bank::errc::service_unavailable, "the database is unavailable; nothing was done, retry later",
              std::move(note)};
    case failure_kind::lost:
      if (kind == effect::write)
        return {bank::errc::outcome_unknown,
                "the outcome is unknown; replay the request with the same Idempotency-Key", std::move(note)};
      return {bank::errc::service_unavailable, "the database did not answer; retry later", std::move(note)};
    case failure_kind::unexpected: break;
  }
  return {bank::errc::internal, "internal error", std::move(note)};
}

void log_failure(const failure_note& note, std::string_view request_id) {
  const auto& e = note.cause;
  switch (classify(e)) {
    case failure_kind::contention:
      log::warn("bank.retries_exhausted")
          .kv("request_id", request_id)
          .kv("operation", note.operation)
          .kv("sqlstate", e.sqlstate);
      return;
    case failure_kind::unavailable:
    case failure_kind::lost:
      // Every request of an outage ends here: one log line per cause per
      // second, naming the request that got through.
      if (const auto held_back = util::log_throttle::shared().admit(e.code.message()))
        log::warn(classify(e) == failure_kind::lost ? "bank.database_lost" : "bank.service_unavailable")
            .kv("request_id", request_id)
            .kv("operation", note.operation)
            .kv("error", e.code.message())
            .kv("detail", e.message)
            .kv("suppressed", *held_back);
      return;
    case failure_kind::unexpected: break;
  }
  log::error("bank.database_error")
      .kv("request_id", request_id)
      .kv("operation", note.operation)
      .kv("error", e.code.message())
      .kv("sqlstate", e.sqlstate)
      .kv("message", e.message)
      .kv("detail", e.detail)
      .kv("constraint", e.constraint);
}

}  // namespace bankd::bank
