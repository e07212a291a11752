#include "db/pipeline.hpp"

#include <algorithm>

namespace bankd::db {

const char* begin_sql(isolation level) noexcept {
  switch (level) {
    case isolation::serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case isolation::repeatable_read_read_only: return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }
  return "BEGIN";
}

std::vector<slot> plan_pipeline(const batch& b, const tx_frame& frame,
                                const std::vector<const statement*>& prepared) {
  std::vector<slot> plan;
  plan.reserve(b.size() * 2 + 6);
  const bool locked = frame.advisory_lock && frame.begin && frame.commit;
  if (locked) {
    plan.push_back({slot_kind::lock});
    plan.push_back({slot_kind::sync});
  }
  if (frame.begin) plan.push_back({slot_kind::begin});
  const bool barrier = locked && frame.durable_after_unlock;
  if (barrier) plan.push_back({slot_kind::relax_commit});
  auto is_known = [&](const statement* stmt) {
    if (std::find(prepared.begin(), prepared.end(), stmt) != prepared.end()) return true;
    return std::any_of(plan.begin(), plan.end(), [&](const slot& s) {
      return s.kind == slot_kind::prepare && s.stmt == stmt;
    });
  };
  for (std::size_t i = 0; i < b.size(); ++i) {
    const statement* stmt = b.entries()[i].stmt;
    if (!is_known(stmt)) plan.push_back({slot_kind::prepare, 0, stmt});
    plan.push_back({slot_kind::statement, i, stmt});
  }
  if (frame.commit) plan.push_back({slot_kind::commit});
  plan.push_back({slot_kind::sync});
  if (locked) {
    plan.push_back({barrier ? slot_kind::unlock_and_barrier : slot_kind::unlock});
    plan.push_back({slot_kind::sync});
  }
  return plan;
}

error error_from_result(const query_result& res, bool connection_bad) {
  error err;
  err.sqlstate = std::string(res.field(PG_DIAG_SQLSTATE));
  err.message = std::string(res.field(PG_DIAG_MESSAGE_PRIMARY));
  err.detail = std::string(res.field(PG_DIAG_MESSAGE_DETAIL));
  err.constraint = std::string(res.field(PG_DIAG_CONSTRAINT_NAME));
  if (err.message.empty() && res) err.message = PQresultErrorMessage(res.native());
  for (auto& c : err.message)
    if (c == '\n' || c == '\t') c = ' ';
  while (!err.message.empty() && err.message.back() == ' ') err.message.pop_back();
  // A lost connection surfaces as an error result without a SQLSTATE.
  if (connection_bad && err.sqlstate.empty())
    err.code = make_error_code(errc::connection_lost);
  else
    err.code = make_error_code(err.sqlstate.empty() ? errc::server_error
                                                    : classify_sqlstate(err.sqlstate));
  return err;
}

void pipeline_outcome::accept(const slot& s, query_result res, bool connection_bad) {
  const auto status = res.status();
  if (s.kind == slot_kind::lock || s.kind == slot_kind::unlock) return;
  if (s.kind == slot_kind::unlock_and_barrier) {
    // Failed after a COMMIT: the work committed, its durability is unknown.
    const bool ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
    if (results_.committed && !ok && !error_)
      error_ = error::client(errc::connection_lost, "committed, but its durability was not confirmed");
    if (ok) awaiting_barrier_ = false;
    return;
  }
  if (s.kind == slot_kind::sync) {
    if (status != PGRES_PIPELINE_SYNC && !error_)
      error_ = error::client(errc::protocol_error, "expected a pipeline sync");
    return;
  }
  if (status == PGRES_PIPELINE_ABORTED) {
    // Skipped by the server because an earlier query failed.
    if (!error_) error_ = error::client(errc::protocol_error, "pipeline aborted without an error");
    return;
  }
  if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
      status == PGRES_NONFATAL_ERROR) {
    if (!error_) error_ = error_from_result(res, connection_bad);
    return;
  }
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    if (!error_) error_ = error::client(errc::protocol_error, "unexpected result status");
    return;
  }
  switch (s.kind) {
    case slot_kind::prepare: prepared_.push_back(s.stmt); break;
    case slot_kind::statement: results_.results[s.index] = std::move(res); break;
    case slot_kind::commit:
      // COMMIT of a transaction that had already failed answers "ROLLBACK".
      if (res.command_tag() == "COMMIT") results_.committed = true;
      else if (!error_) error_ = error::client(errc::server_error, "transaction was rolled back");
      break;
    case slot_kind::lock:
    case slot_kind::unlock:
    case slot_kind::unlock_and_barrier:
    case slot_kind::relax_commit:
    case slot_kind::begin:
    case slot_kind::rollback:
    case slot_kind::sync: break;
  }
}

}  // namespace bankd::db
