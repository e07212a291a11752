// The non-blocking connection against the real server: pipelines, prepared
// statements, transactions, errors and deadlines.

#include "db/connection.hpp"
#include "support/async_run.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using namespace std::chrono_literals;
namespace net = boost::asio;
using test::run_async;

namespace {

constexpr db::statement select_sum{"test.sum", "SELECT $1::bigint + $2::bigint AS total"};
constexpr db::statement insert_account{
    "test.insert_account",
    "INSERT INTO accounts (user_id, currency, balance) VALUES (0, 'EUR', $1) RETURNING id"};
constexpr db::statement debit_account{
    "test.debit", "UPDATE accounts SET balance = balance - $2 WHERE id = $1 RETURNING balance"};
constexpr db::statement sleep_statement{"test.sleep", "SELECT pg_sleep($1::float8)"};

std::unique_ptr<db::connection> open(net::io_context& ioc, const std::string& conninfo) {
  auto conn = run_async(ioc, db::connection::connect(db::connect_params{.conninfo = conninfo}, {}, db::clock::now() + 5s));
  REQUIRE(conn);
  return std::move(*conn);
}

db::result<db::batch_result> run(net::io_context& ioc, db::connection& conn, const db::batch& b,
                                 db::tx_frame frame = {}, std::chrono::milliseconds limit = 5000ms) {
  return run_async(ioc, conn.execute(b, frame, db::clock::now() + limit));
}

}  // namespace

TEST_CASE("a connection runs parameterised statements and reuses its prepared statements") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());
  CHECK(conn->is_usable());
  for (int i = 0; i < 3; ++i) {
    db::batch b;
    b.add(select_sum, db::params{}.add(std::int64_t{40}).add(std::int64_t{i}));
    auto r = run(ioc, *conn, b);
    REQUIRE(r);
    CHECK(r->results[0].int64(0, 0) == 40 + i);
  }
  test::pg_session admin(scratch.conninfo());
  CHECK(admin.scalar_int("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'idle'",
                         {std::to_string(conn->backend_pid())}) == 1);
}

TEST_CASE("unknown hosts and refused ports fail within the deadline") {
  net::io_context ioc;
  const auto started = db::clock::now();
  auto conn = run_async(ioc, db::connection::connect(db::connect_params{.conninfo = "host=127.0.0.1 port=1 dbname=x"}, {},
                                                     db::clock::now() + 2s));
  REQUIRE_FALSE(conn);
  CHECK(conn.error().code == db::errc::unavailable);
  CHECK(db::clock::now() - started < 2s);
}

TEST_CASE("BEGIN, statements and COMMIT travel in one pipeline and commit") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());
  db::batch b;
  b.add(insert_account, db::params{}.add(std::int64_t{100}));
  b.add(insert_account, db::params{}.add(std::int64_t{200}));
  auto r = run(ioc, *conn, b, {db::isolation::serializable, true});
  REQUIRE(r);
  CHECK(r->committed);
  CHECK(conn->is_usable());
  test::pg_session check(scratch.conninfo());
  CHECK(check.scalar_int("SELECT sum(balance) FROM accounts") == 300);
}

TEST_CASE("an error inside a pipelined transaction rolls back and leaves the connection usable") {
  test::scratch_database scratch;
  test::pg_session check(scratch.conninfo());
  const auto account = check.scalar("INSERT INTO accounts (user_id, currency, balance) VALUES (0, 'EUR', 50) RETURNING id");
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());

  db::batch b;
  b.add(insert_account, db::params{}.add(std::int64_t{7}));           // would succeed
  b.add(debit_account, db::params{}.add(account).add(std::int64_t{80}));  // overdraft: CHECK fails
  b.add(insert_account, db::params{}.add(std::int64_t{9}));           // skipped
  auto r = run(ioc, *conn, b, {db::isolation::serializable, true});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == db::errc::check_violation);
  CHECK(r.error().sqlstate == "23514");
  CHECK(r.error().constraint == "accounts_available_non_negative");
  CHECK(conn->is_usable());
  CHECK(check.scalar_int("SELECT count(*) FROM accounts") == 1);
  CHECK(check.scalar_int("SELECT balance FROM accounts WHERE id = $1", {account}) == 50);

  db::batch next;
  next.add(debit_account, db::params{}.add(account).add(std::int64_t{20}));
  auto ok = run(ioc, *conn, next, {db::isolation::serializable, true});
  REQUIRE(ok);
  CHECK(ok->committed);
  CHECK(ok->results[0].int64(0, 0) == 30);
}

TEST_CASE("an interactive transaction can be rolled back explicitly") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());
  db::batch b;
  b.add(insert_account, db::params{}.add(std::int64_t{1}));
  auto r = run(ioc, *conn, b, {db::isolation::serializable, false});
  REQUIRE(r);
  CHECK_FALSE(conn->is_usable());
  REQUIRE(run_async(ioc, conn->rollback(db::clock::now() + 5s)));
  CHECK(conn->is_usable());
  test::pg_session check(scratch.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM accounts") == 0);
}

TEST_CASE("a statement past its deadline times out and the connection is not reused") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());
  db::batch b;
  b.add(sleep_statement, db::params{}.add("2"));
  const auto started = db::clock::now();
  auto r = run(ioc, *conn, b, {}, 200ms);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == db::errc::timeout);
  CHECK(db::clock::now() - started < 1500ms);
  CHECK_FALSE(conn->is_usable());
}

TEST_CASE("SQL errors outside a transaction keep their SQLSTATE and detail") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = open(ioc, scratch.conninfo());
  constexpr db::statement bad_fk{"test.bad_fk",
                                 "INSERT INTO accounts (user_id, currency) VALUES (999999, 'EUR')"};
  db::batch b;
  b.add(bad_fk);
  auto r = run(ioc, *conn, b);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == db::errc::foreign_key_violation);
  CHECK(r.error().sqlstate == "23503");
  CHECK_FALSE(r.error().detail.empty());
  CHECK(conn->is_usable());
}
