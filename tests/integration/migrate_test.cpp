// Migrations and the schema they build, on the real server.

#include "migrate/migrator.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;
using namespace bankd;
using test::pg_session;
using test::scratch_database;

namespace {

// A private copy of the real migrations that a test may edit.
struct migrations_copy {
  migrations_copy() : dir(fs::temp_directory_path() / ("bankd-mig-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(dir);
    for (const auto& entry : fs::directory_iterator(test::migrations_dir()))
      fs::copy_file(entry.path(), dir / entry.path().filename());
  }
  ~migrations_copy() { fs::remove_all(dir); }
  fs::path dir;
};

std::size_t migration_files() {
  return static_cast<std::size_t>(std::count_if(fs::directory_iterator(test::migrations_dir()),
                                                fs::directory_iterator{},
                                                [](const auto& e) { return e.path().extension() == ".sql"; }));
}

int run_bankd(const std::string& args) {
  const int status = std::system((test::bankd_binary() + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("migrating an empty database applies everything once and records it") {
  scratch_database db(scratch_database::schema::empty);
  const auto applied = migrate::apply_all(db.conninfo(), test::migrations_dir());
  CHECK(applied.size() == migration_files());
  CHECK(applied.front() == "001_core_schema.sql");
  pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM schema_migrations") == static_cast<std::int64_t>(migration_files()));
  CHECK(check.scalar("SELECT name FROM schema_migrations WHERE version = 1") == "core_schema");
  CHECK(check.scalar("SELECT checksum FROM schema_migrations WHERE version = 1").size() == 64);
  CHECK(check.scalar_int("SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL") == 0);

  SECTION("a second run applies nothing") {
    CHECK(migrate::apply_all(db.conninfo(), test::migrations_dir()).empty());
    const auto report = migrate::status(db.conninfo(), test::migrations_dir());
    CHECK(report.pending.empty());
    CHECK(report.applied.size() == migration_files());
  }
}

TEST_CASE("concurrent runs apply each migration exactly once") {
  scratch_database db(scratch_database::schema::empty);
  SECTION("four threads") {
    std::vector<std::size_t> applied(4);
    std::vector<std::thread> runs;
    for (std::size_t i = 0; i < applied.size(); ++i)
      runs.emplace_back([&, i] { applied[i] = migrate::apply_all(db.conninfo(), test::migrations_dir()).size(); });
    for (auto& t : runs) t.join();
    std::size_t total = 0;
    for (auto n : applied) total += n;
    CHECK(total == migration_files());
  }
  SECTION("two bankd migrate processes") {
    const auto args = "migrate --database-url \"" + db.conninfo() + "\" --migrations-dir " + test::migrations_dir();
    int first = -1, second = -1;
    std::thread a([&] { first = run_bankd(args); });
    std::thread b([&] { second = run_bankd(args); });
    a.join();
    b.join();
    CHECK(first == 0);
    CHECK(second == 0);
  }
  pg_session check(db.conninfo());
  CHECK(check.scalar_int("SELECT count(*) FROM schema_migrations") == static_cast<std::int64_t>(migration_files()));
  CHECK(check.scalar_int("SELECT count(*) FROM users WHERE id = 0") == 1);
}

TEST_CASE("bankd migrate --status lists applied and pending migrations") {
  scratch_database db(scratch_database::schema::empty);
  const auto base = test::bankd_binary() + " migrate --database-url \"" + db.conninfo() +
                    "\" --migrations-dir " + test::migrations_dir();
  CHECK(run_bankd("migrate --status --database-url \"" + db.conninfo() + "\" --migrations-dir " +
                  test::migrations_dir()) == 0);
  FILE* out = ::popen((base + " --status 2>&1").c_str(), "r");
  REQUIRE(out != nullptr);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, out) != nullptr) text += buf;
  ::pclose(out);
  CHECK(text.find("pending  1  core_schema") != std::string::npos);
  CHECK(text.find("0 applied") != std::string::npos);
}

TEST_CASE("edited, missing and out-of-order migrations are refused") {
  scratch_database db(scratch_database::schema::empty);
  migrations_copy copy;
  migrate::apply_all(db.conninfo(), copy.dir);

  SECTION("an applied file changed") {
    std::ofstream(copy.dir / "001_core_schema.sql", std::ios::app) << "\n-- edited\n";
    CHECK_THROWS_WITH(migrate::apply_all(db.conninfo(), copy.dir), Catch::Contains("001_core_schema.sql") &&
                                                                       Catch::Contains("changed"));
    CHECK(run_bankd("migrate --database-url \"" + db.conninfo() + "\" --migrations-dir " + copy.dir.string()) != 0);
  }
  SECTION("an applied file missing") {
    fs::remove(copy.dir / "002_api_keys_and_closing.sql");
    CHECK_THROWS_WITH(migrate::apply_all(db.conninfo(), copy.dir), Catch::Contains("missing"));
  }
  SECTION("a new file older than the newest applied one") {
    std::ofstream(copy.dir / "000_too_late.sql") << "SELECT 1;";
    CHECK_THROWS_WITH(migrate::apply_all(db.conninfo(), copy.dir), Catch::Contains("out of order"));
  }
  SECTION("a failing migration leaves nothing behind") {
    std::ofstream(copy.dir / "900_broken.sql") << "CREATE TABLE half_done (x int); SELECT no_such_function();";
    CHECK_THROWS_WITH(migrate::apply_all(db.conninfo(), copy.dir), Catch::Contains("900_broken.sql"));
    pg_session check(db.conninfo());
    CHECK(check.scalar("SELECT to_regclass('half_done') IS NULL") == "t");
    CHECK(check.scalar_int("SELECT count(*) FROM schema_migrations WHERE version = 900") == 0);
  }
}

TEST_CASE("the schema's constraints hold") {
  scratch_database db;
  pg_session s(db.conninfo());
  s.exec("INSERT INTO users (name, email) VALUES ('a', 'a@example.com'), ('b', 'b@example.com')");
  const auto eur_a = s.scalar("INSERT INTO accounts (user_id, currency, balance) VALUES (1, 'EUR', 100) RETURNING id");
  const auto eur_b = s.scalar("INSERT INTO accounts (user_id, currency) VALUES (2, 'EUR') RETURNING id");
  const auto usd_b = s.scalar("INSERT INTO accounts (user_id, currency) VALUES (2, 'USD') RETURNING id");
  const auto funding = s.scalar("INSERT INTO accounts (user_id, currency, kind) VALUES (0, 'EUR', 'funding') RETURNING id");
  const auto insert_transfer = [&](const std::string& from, const std::string& to, const std::string& currency,
                                   const std::string& amount, const std::string& key) {
    return s.error_state("INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, "
                         "idempotency_key, from_balance_after, from_held_after, to_balance_after, to_held_after) "
                         "VALUES ($1, $2, $3, $4, 1, $5, 0, 0, 0, 0)",
                         {from, to, currency, amount, key});
  };

  CHECK(s.error_state("UPDATE accounts SET balance = -1 WHERE id = $1", {eur_a}) == "23514");
  CHECK(s.error_state("UPDATE accounts SET balance = -1000 WHERE id = $1", {funding}).empty());
  CHECK(insert_transfer(eur_a, eur_b, "EUR", "0", "k1") == "23514");
  CHECK(insert_transfer(eur_a, eur_b, "EUR", "-5", "k2") == "23514");
  CHECK(insert_transfer(eur_a, eur_a, "EUR", "5", "k3") == "23514");
  CHECK(insert_transfer(eur_a, "999999", "EUR", "5", "k4") == "23503");
  CHECK(insert_transfer(eur_a, usd_b, "EUR", "5", "k5") == "23503");  // currency mismatch via (id, currency)
  CHECK(insert_transfer(eur_a, eur_b, "EUR", "5", "k6").empty());
  CHECK(insert_transfer(eur_a, eur_b, "EUR", "5", "k6") == "23505");  // idempotency key reused
  CHECK(s.error_state("INSERT INTO users (name, email) VALUES ('c', 'A@EXAMPLE.COM')") == "23505");
  CHECK(s.error_state("INSERT INTO accounts (user_id, currency) VALUES (1, 'eur')") == "23514");
  CHECK(s.error_state("INSERT INTO accounts (user_id, currency) VALUES (1, 'EURO')") == "23514");
  CHECK(s.error_state("INSERT INTO accounts (user_id, currency) VALUES (999, 'EUR')") == "23503");
  CHECK(s.error_state("INSERT INTO accounts (user_id, currency, kind) VALUES (0, 'EUR', 'funding')") == "23505");
  CHECK(s.error_state("UPDATE accounts SET closed_at = now() WHERE id = $1", {eur_a}) == "23514");  // not empty
}

TEST_CASE("the account history query walks the history indexes") {
  scratch_database db;
  pg_session s(db.conninfo());
  s.exec("INSERT INTO accounts (user_id, currency, kind) VALUES (0, 'EUR', 'funding')");
  s.exec("INSERT INTO accounts (user_id, currency, balance) SELECT 0, 'EUR', 1000000 FROM generate_series(1, 200)");
  s.exec("INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, "
         "from_balance_after, from_held_after, to_balance_after, to_held_after) "
         "SELECT 2 + (i % 200), 2 + ((i + 1 + i / 200) % 200), 'EUR', 1, 0, 'k' || i, 0, 0, 0, 0 "
         "FROM generate_series(1, 20000) i WHERE (i % 200) <> ((i + 1 + i / 200) % 200)");
  s.exec("ANALYZE transfers");
  // The walk of bank/history.cpp: one account's entries, newest first.
  const auto plan = s.query(
      "EXPLAIN SELECT id FROM account_entries WHERE account_id = 7 ORDER BY created_at DESC, id DESC LIMIT 50");
  std::string text;
  for (const auto& row : plan) text += row[0] + "\n";
  INFO(text);
  CHECK(text.find("transfers_from_entries_idx") != std::string::npos);
  CHECK(text.find("transfers_to_entries_idx") != std::string::npos);
  CHECK(text.find("Seq Scan on transfers") == std::string::npos);
}
