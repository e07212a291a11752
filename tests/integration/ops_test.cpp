// Operations: isolation of the write paths, least privilege of `bankd
// serve`'s role, request ids, and a log that never stalls the service.

#include "support/bankd_process.hpp"
#include "support/bankd_server.hpp"
#include "support/eventually.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace bankd;
using namespace std::chrono_literals;
using nlohmann::json;

using test::eventually;

namespace {

std::string path(const char* prefix, std::int64_t id, const char* suffix = "") {
  return std::string(prefix) + std::to_string(id) + suffix;
}

}  // namespace

// The interleaving that READ COMMITTED allows: the delete takes its snapshot,
// the account is opened and committed, then the delete closes the accounts
// of its snapshot and marks the user deleted. SERIALIZABLE on both sides
// makes the delete retry and close the new account too.
TEST_CASE("an account opened while its user is deleted is closed with it, never left open") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 0);
  test::pg_session blocker(db.conninfo());
  test::pg_session watch(db.conninfo());
  blocker.exec("BEGIN");
  blocker.query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", {std::to_string(alice.account_id)});

  auto deleting = std::async(std::launch::async, [&] {
    return server.operator_client().del(path("/users/", alice.user_id)).status;
  });
  REQUIRE(eventually([&] {
    return watch.scalar_int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock'") > 0;
  }));
  auto opened = op.post("/accounts", {{"currency", "EUR"}, {"user_id", alice.user_id}});
  blocker.exec("ROLLBACK");
  CHECK(deleting.get() == 204);
  INFO("open answered " << opened.status << " " << opened.body);
  CHECK((opened.status == 201 || opened.status == 404));
  CHECK(watch.scalar_int("SELECT count(*) FROM accounts a JOIN users u ON u.id = a.user_id "
                         "WHERE u.deleted_at IS NOT NULL AND a.closed_at IS NULL") == 0);
}

TEST_CASE("bankd serve's role cannot change or remove ledger rows, and the owner cannot either") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  test::create_funded_account(op, "EUR", 100);  // one ledger row, written by the serve role
  test::pg_session serve(db.serve_conninfo());
  CHECK(serve.scalar("SELECT current_user") == db.name() + "_serve");
  CHECK(serve.scalar_int("SELECT count(*) FROM transfers") == 1);
  CHECK(serve.error_state("UPDATE transfers SET amount = amount + 1") == "42501");
  CHECK(serve.error_state("DELETE FROM transfers") == "42501");
  CHECK(serve.error_state("TRUNCATE transfers CASCADE") == "42501");
  CHECK(serve.error_state("DELETE FROM accounts") == "42501");
  CHECK(serve.error_state("UPDATE schema_migrations SET name = 'x'") == "42501");
  CHECK(serve.error_state("CREATE TABLE t (x int)") == "42501");
  CHECK(serve.error_state("ALTER TABLE transfers DISABLE TRIGGER transfers_append_only") == "42501");

  test::pg_session owner(db.conninfo());
  CHECK(owner.error_state("UPDATE transfers SET amount = amount + 1") == "42501");  // the trigger
  CHECK(owner.error_state("DELETE FROM transfers") == "42501");
  // CASCADE: without it the foreign keys onto transfers refuse first.
  CHECK(owner.error_state("TRUNCATE transfers CASCADE") == "42501");
  CHECK(owner.scalar_int("SELECT sum(amount) FROM transfers") == 100);
}

// The transfer engine as bankd serve's role: bank_apply_batch is granted to
// <database>_app by name (migration 007), so it runs even where an
// administrator took EXECUTE on functions away from PUBLIC; the advisory
// lock and the durability barrier need nothing beyond PUBLIC's defaults.
TEST_CASE("bankd serve's role runs the transfer engine, its lock and its durability barrier") {
  test::scratch_database db;
  test::pg_session owner(db.conninfo());
  owner.exec("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC");
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 100);  // a deposit: the engine, as serve
  auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  CHECK(as_alice.post("/transfers", {{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 30}},
                      {{"Idempotency-Key", "t1"}}).status == 201);
  auto batch = as_alice.post("/transfers/batch", {{"transfers", {{{"from_account_id", alice.account_id},
                                                                  {"to_account_id", bob.account_id},
                                                                  {"amount", 20},
                                                                  {"idempotency_key", "t2"}}}}});
  REQUIRE(batch.status == 200);
  CHECK(batch.json()["results"][0]["status"] == 201);
  CHECK(owner.scalar_int("SELECT balance FROM accounts WHERE id = $1", {std::to_string(bob.account_id)}) == 50);

  const std::string empty_batch =
      "SELECT count(*) FROM bank_apply_batch('{}'::text[], '{}'::bigint[], '{}'::bigint[], '{}'::bigint[], "
      "'{}'::text[], '{}'::bigint[], '{}'::bigint[], '{}'::text[], '{}'::text[], '{}'::int[])";
  {
    test::pg_session serve(db.serve_conninfo());
    CHECK(serve.error_state(empty_batch).empty());
    CHECK(serve.error_state("SELECT pg_advisory_lock($1::bigint)", {"7089068695995725944"}).empty());
    CHECK(serve.error_state("SELECT pg_advisory_unlock($1::bigint), pg_current_xact_id()", {"7089068695995725944"})
              .empty());
    CHECK(serve.error_state("SELECT pg_logical_emit_message(true, 'bankd.barrier', '')").empty());
    CHECK(serve.error_state("SELECT pg_is_in_recovery()").empty());
  }
  // The control: a role outside <database>_app is refused the engine.
  const auto other = db.name() + "_other";
  owner.exec("CREATE ROLE " + other + " LOGIN");
  {
    test::pg_session outsider(test::with_user(db.conninfo(), other));
    CHECK(outsider.error_state(empty_batch) == "42501");
  }
  owner.exec("DROP ROLE " + other);
}

TEST_CASE("every response carries X-Request-Id: the client's when valid, else a new one") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto client = server.client();
  const std::regex shape("^[A-Za-z0-9._:+/=-]{1,128}$");
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = client.get("/healthz");
    CHECK(std::regex_match(r.header("x-request-id"), shape));
    ids.insert(r.header("x-request-id"));
  }
  CHECK(ids.size() == 5);
  CHECK(client.request("GET", "/healthz", "", {{"X-Request-Id", "trace-1:a/b=c"}}).header("x-request-id") == "trace-1:a/b=c");
  for (const std::string& bad : std::vector<std::string>{"has space", std::string(129, 'a'), "quote\"d"}) {
    auto r = client.request("GET", "/healthz", "", {{"X-Request-Id", bad}});
    CHECK(r.header("x-request-id") != bad);
    CHECK(std::regex_match(r.header("x-request-id"), shape));
  }
  CHECK_FALSE(client.get("/nowhere").header("x-request-id").empty());
  CHECK_FALSE(client.get("/users/1").header("x-request-id").empty());  // 401
  auto big = client.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
  CHECK(big.status == 431);
  CHECK_FALSE(big.header("x-request-id").empty());
}

TEST_CASE("the log lines of a request carry its id") {
  test::scratch_database db;
  char name[] = "/tmp/bankd-log-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  const auto port = test::free_port();
  {
    test::bankd_process bankd(db.conninfo(), port, {{"LOG_LEVEL=info"}, fd});
    REQUIRE(test::wait_ready(port));
    test::http_client client(port);
    CHECK(client.request("GET", "/users/1", "", {{"X-Request-Id", "trace-42"}}).status == 401);
    const auto logged = [&](const std::string& what) {
      return eventually([&] {
        std::ifstream in(name);
        std::stringstream text;
        text << in.rdbuf();
        return text.str().find(what) != std::string::npos;
      });
    };
    CHECK(logged("request_id=trace-42 method=GET path=/users/1"));
    // A database failure's own line names the request too.
    test::pg_session admin(db.conninfo());
    admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()");
    test::http_client op(port, test::operator_key);
    CHECK(op.request("GET", "/users/1", "", {{"X-Request-Id", "trace-43"}}).status == 503);
    CHECK(logged("bank.database_lost request_id=trace-43 operation=users.get"));
    CHECK(logged("request_id=trace-43 method=GET path=/users/1"));
  }
  ::close(fd);
  ::unlink(name);
}

TEST_CASE("a stderr nobody reads does not stall requests, and the log counts the lines it drops") {
  test::scratch_database db;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  ::fcntl(pipe_fds[1], F_SETPIPE_SZ, 4096);  // fills after a few dozen lines
  const auto port = test::free_port();
  test::bankd_process bankd(db.conninfo(), port, {{"LOG_LEVEL=info"}, pipe_fds[1]});
  ::close(pipe_fds[1]);
  REQUIRE(eventually([&] {
    try {
      return test::http_client(port).get("/healthz").status == 200;
    } catch (const std::exception&) {
      return false;  // not listening yet
    }
  }));
  test::http_client client(port);
  client.set_timeout(5s);
  int answered = 0;
  for (int i = 0; i < 12'000; ++i) answered += client.get("/healthz").status == 200 ? 1 : 0;
  CHECK(answered == 12'000);
  const auto metrics = client.get("/metrics").body;
  const std::regex dropped("bankd_log_lines_dropped_total ([0-9.e+]+)");
  std::smatch m;
  REQUIRE(std::regex_search(metrics, m, dropped));
  CHECK(std::stod(m[1]) > 0);
  ::close(pipe_fds[0]);
}
