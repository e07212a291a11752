// bankd against a database that stops taking writes (an operator sets
// default_transaction_read_only, or bankd lands on a standby): transfers are
// 503 with Retry-After, never 500, /readyz says 503, and both recover once
// the database takes writes again, without a restart.

#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace bankd;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// bankd's own sessions on this database: new ones pick up its settings.
void end_bankd_sessions(test::pg_session& admin, const std::string& dbname) {
  admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = $1 AND application_name = 'bankd'",
              {dbname});
}

bool ready_within(test::http_client& client, unsigned want, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (client.get("/readyz").status == want) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace

TEST_CASE("a read-only database gives 503 with Retry-After for transfers and on /readyz") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();
  auto alice = test::create_funded_account(op, "EUR", 1000);
  auto bob = test::create_funded_account(op, "EUR", 0);
  auto as_alice = server.client(alice.api_key);
  auto probe = server.client();
  const json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id}, {"amount", 1}};

  test::pg_session admin(test::admin_conninfo());
  admin.exec("ALTER DATABASE \"" + db.name() + "\" SET default_transaction_read_only = on");
  end_bankd_sessions(admin, db.name());

  for (int i = 0; i < 5; ++i) {
    auto refused = as_alice.post("/transfers", body, {{"Idempotency-Key", "ro-" + std::to_string(i)}});
    INFO("transfer " << i << ": " << refused.status << " " << refused.body);
    CHECK(refused.status == 503);
    CHECK(refused.error_code() == "service_unavailable");
    CHECK_FALSE(refused.header("retry-after").empty());
  }
  CHECK(probe.get("/readyz").status == 503);
  test::pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM transfers WHERE idempotency_key LIKE 'ro-%'") == 0);

  admin.exec("ALTER DATABASE \"" + db.name() + "\" RESET default_transaction_read_only");
  CHECK(ready_within(probe, 200, 10s));
  CHECK(as_alice.post("/transfers", body, {{"Idempotency-Key", "ro-after"}}).status == 201);
}
