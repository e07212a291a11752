// An answered transfer is on disk. The engine commits its batches with
// synchronous_commit off under its advisory lock and answers only after a
// barrier transaction has flushed the WAL; these cases check, with the WAL
// writer slowed to 10 s so that nothing but a synchronous commit flushes,
// that the commit record of an answered transfer lies below the flush point.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace bankd;

namespace {

// Cluster-wide, for the length of one case (the target is SERIAL in ctest).
// The test cluster runs with synchronous_commit off for speed; these cases
// need the production default.
class slow_wal_writer {
 public:
  explicit slow_wal_writer(test::pg_session& admin) : admin_(admin) {
    admin_.exec("ALTER SYSTEM SET synchronous_commit = on");
    admin_.exec("ALTER SYSTEM SET wal_writer_delay = '10s'");
    admin_.exec("ALTER SYSTEM SET wal_writer_flush_after = '1GB'");
    admin_.exec("SELECT pg_reload_conf()");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    // A flush now, so that the case starts from a quiet WAL writer.
    admin_.exec("CHECKPOINT");
  }
  ~slow_wal_writer() {
    admin_.exec("ALTER SYSTEM RESET synchronous_commit");
    admin_.exec("ALTER SYSTEM RESET wal_writer_delay");
    admin_.exec("ALTER SYSTEM RESET wal_writer_flush_after");
    admin_.exec("SELECT pg_reload_conf()");
  }
  slow_wal_writer(const slow_wal_writer&) = delete;
  slow_wal_writer& operator=(const slow_wal_writer&) = delete;

 private:
  test::pg_session& admin_;
};

std::string insert_lsn(test::pg_session& db) { return db.scalar("SELECT pg_current_wal_insert_lsn()::text"); }

// Whether the commit record of `xid`, written after `from_lsn`, is flushed.
bool commit_flushed(test::pg_session& db, const std::string& from_lsn, const std::string& xid) {
  const auto flushed = db.scalar("SELECT pg_current_wal_flush_lsn()::text");
  if (db.scalar("SELECT $1::pg_lsn > $2::pg_lsn", {flushed, from_lsn}) != "t") return false;
  return db.scalar_int(R"sql(
SELECT count(*) FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
 WHERE xid = $3::xid AND resource_manager = 'Transaction' AND record_type = 'COMMIT')sql",
                       {from_lsn, flushed, xid}) == 1;
}

// An asynchronous commit followed by `barrier`, as one session would run them.
bool async_commit_flushed_by(test::pg_session& db, const std::string& barrier) {
  const auto from = insert_lsn(db);
  db.exec("BEGIN");
  db.exec("SET LOCAL synchronous_commit TO off");
  const auto xid = db.scalar("INSERT INTO durability_probe VALUES (1) RETURNING pg_current_xact_id()::xid::text");
  db.exec("COMMIT");
  db.exec(barrier);
  return commit_flushed(db, from, xid);
}

}  // namespace

TEST_CASE("a transaction with an xid but no WAL is no durability barrier, a WAL message is") {
  test::scratch_database scratch;
  test::pg_session db{scratch.conninfo()};
  db.exec("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  db.exec("CREATE TABLE durability_probe (n int)");
  slow_wal_writer slow{db};

  // The negative control: the check finds an unflushed commit.
  CHECK_FALSE(async_commit_flushed_by(db, "SELECT pg_current_xact_id()"));
  CHECK(async_commit_flushed_by(db, "SELECT pg_logical_emit_message(true, 'bankd.barrier', '')"));
}

TEST_CASE("an answered transfer is flushed to disk, although its batch committed asynchronously") {
  test::scratch_database scratch;
  test::pg_session db{scratch.conninfo()};
  db.exec("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  test::bankd_server server{scratch.conninfo()};
  auto op = server.operator_client();
  const auto alice = test::create_funded_account(op, "EUR", 1000);
  const auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  slow_wal_writer slow{db};

  for (int i = 0; i < 3; ++i) {
    const auto from = insert_lsn(db);
    const auto k = "durable-" + std::to_string(i);
    const auto reply = as_alice.post("/transfers",
                                     {{"from_account_id", alice.account_id},
                                      {"to_account_id", bob.account_id}, {"amount", 10}},
                                     {{"Idempotency-Key", k}});
    REQUIRE(reply.status == 201);
    const auto xid = db.scalar("SELECT xmin::text FROM transfers WHERE idempotency_key = $1", {k});
    CHECK(commit_flushed(db, from, xid));
  }
}
