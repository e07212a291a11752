#pragma once
// The protocol logic of one pipeline, kept free of sockets so unit tests can
// drive it: what is sent (a plan of slots) and how the results that come back,
// in order, are matched to it.

#include "db/error.hpp"
#include "db/query_result.hpp"
#include "db/statement.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bankd::db {

enum class isolation { serializable, repeatable_read_read_only };

// NUL-terminated, for libpq.
const char* begin_sql(isolation level) noexcept;

// How a batch relates to an explicit transaction. Without BEGIN, the statements
// up to the pipeline's sync point run in one implicit transaction.
struct tx_frame {
  std::optional<isolation> begin;  // open a transaction before the batch
  bool commit = false;             // COMMIT after the batch
  // With begin and commit: hold this session-level advisory lock around the
  // whole transaction, taken before BEGIN (so the transaction's snapshot is
  // taken after the lock is granted) and released after COMMIT, in the same
  // pipeline. Transactions that take the same lock run one after another
  // and never conflict with each other. The lock only orders work: if taking
  // it fails (lock_timeout), the transaction runs anyway, still protected by
  // its isolation level.
  std::optional<std::int64_t> advisory_lock;
  // With the advisory lock: commit without waiting for the WAL flush
  // (SET LOCAL synchronous_commit TO off), release the lock, and only then
  // wait for durability, with a barrier: a transaction of its own that takes
  // an xid and commits synchronously, so its commit, and everything in the
  // WAL before it, is flushed (and replicated to a synchronous standby)
  // before it answers. The lock is held for the work, not for the disk: the
  // next holder runs while this one's flush is on its way, and concurrent
  // flushes share one fsync. The batch counts as done only once the barrier
  // answers; other sessions may see its effects a few milliseconds before
  // they are durable (as with synchronous replication).
  bool durable_after_unlock = false;
};

enum class slot_kind : std::uint8_t {
  lock, begin, relax_commit, prepare, statement, commit, rollback, unlock, unlock_and_barrier, sync
};

// One message sent in the pipeline. Queries produce one result followed by a
// null; a sync point produces a PGRES_PIPELINE_SYNC result.
struct slot {
  slot_kind kind;
  std::size_t index = 0;             // statement position in the batch (kind == statement)
  const statement* stmt = nullptr;   // kind == prepare or statement
};

// Builds the list of messages a batch turns into: BEGIN, PREPARE for
// statements this connection has not prepared yet (once each), the
// statements, COMMIT and one sync point. With an advisory lock the lock and
// its own sync come first, the unlock and its sync last: each sync ends a
// segment, so a failure inside the transaction cannot skip the unlock.
//
// One sync point, because with libpq 15 every sync is a flush: a second one
// before COMMIT cost a send and, on the server, a separate answer to read on
// every transaction. When a statement fails, the server skips the COMMIT and
// the transaction stays open and aborted; connection::execute then ends it
// with a ROLLBACK, one more round trip, only on that path.
std::vector<slot> plan_pipeline(const batch& b, const tx_frame& frame,
                                const std::vector<const statement*>& prepared);

struct batch_result {
  std::vector<query_result> results;  // one per statement of the batch, in order
  bool committed = false;          // true only when COMMIT answered "COMMIT"
};

// Turns an error result into an error value with the server's diagnostics.
error error_from_result(const query_result& res, bool connection_bad);

// Collects the results of one pipeline as they arrive, slot by slot.
class pipeline_outcome {
public:
  explicit pipeline_outcome(std::size_t statements, bool barrier = false) : awaiting_barrier_(barrier) {
    results_.results.resize(statements);
  }

  void accept(const slot& s, query_result res, bool connection_bad = false);

  // Failures of the advisory lock and unlock are not the batch's: the
  // connection rolls back and unlocks on its own when the transaction failed.
  bool failed() const noexcept { return error_.has_value(); }
  const error& first_error() const { return *error_; }
  bool committed() const noexcept { return results_.committed; }
  // Committed and, when the plan had a durability barrier, confirmed by it.
  bool done() const noexcept { return results_.committed && !awaiting_barrier_; }
  const std::vector<const statement*>& newly_prepared() const noexcept { return prepared_; }
  batch_result take() { return std::move(results_); }

private:
  batch_result results_;
  std::optional<error> error_;
  std::vector<const statement*> prepared_;
  bool awaiting_barrier_ = false;
};

}  // namespace bankd::db
