// db-bench: transfers/s through bankd's database layer (pool, pipelined
// SERIALIZABLE transaction, retries: everything but HTTP), beside pgbench
// running the same transfer SQL with the same number of clients, in one run.
//
//   db-bench --database-url URL [--clients 16] [--accounts 10000] [--seconds 10]
//
// The database must be migrated; db-bench creates its accounts (and deletes
// the previous run's ledger rows) in it.

#include "bank/services.hpp"
#include "db/pool.hpp"
#include "metrics/registry.hpp"
#include "util/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace net = boost::asio;
namespace po = boost::program_options;
using namespace std::chrono;
using namespace bankd;

namespace {

struct options {
  std::string database_url;
  int clients = 16;
  int accounts = 10'000;
  int seconds = 10;
  std::int64_t first_account = 0;  // filled by set-up
};

void exec(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(res);
  const std::string error = PQresultErrorMessage(res);
  PQclear(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(error);
}

// Fresh accounts with plenty of money, so no transfer runs out of funds.
void set_up(options& opt) {
  PGconn* conn = PQconnectdb(opt.database_url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn));
  // Accounts are never deleted: each run makes its own, in a range of ids.
  exec(conn, "INSERT INTO accounts (user_id, currency, balance) SELECT 0, 'XTS', 1000000000000 "
             "FROM generate_series(1, " + std::to_string(opt.accounts) + ")");
  exec(conn, "VACUUM ANALYZE accounts");
  PGresult* res = PQexec(conn, ("SELECT max(id) - " + std::to_string(opt.accounts - 1) +
                                " FROM accounts WHERE currency = 'XTS'").c_str());
  opt.first_account = std::stoll(PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(conn);
}

struct bench_result {
  double tps;
  std::uint64_t retries;
};

bench_result run_pool(const options& opt) {
  net::io_context ioc(1);
  db::pool_params params;
  params.connect.conninfo = opt.database_url;
  params.min_size = params.max_size = static_cast<std::size_t>(opt.clients);
  db::connection_pool pool(ioc.get_executor(), params);
  metrics::registry stats;
  bank::services bank(pool, {}, &stats);
  pool.start();

  std::atomic<std::uint64_t> done{0}, retries{0}, failed{0};
  const auto stop_at = steady_clock::now() + seconds(opt.seconds);
  auto client = [&](int id) -> net::awaitable<void> {
    std::mt19937_64 rng(static_cast<std::uint64_t>(id) * 7919);
    std::uniform_int_distribution<std::int64_t> pick(0, opt.accounts - 1);
    for (std::uint64_t n = 0; steady_clock::now() < stop_at; ++n) {
      const auto from = opt.first_account + pick(rng);
      auto to = opt.first_account + pick(rng);
      if (to == from) to = from == opt.first_account ? from + 1 : from - 1;
      bank::transfer_request req{from, to, 1 + static_cast<std::int64_t>(rng() % 100), std::nullopt,
                                 std::nullopt, "dbb-" + std::to_string(opt.first_account) + "-" + std::to_string(id) + "-" + std::to_string(n)};
      bank::call c{{bank::operator_user_id, true}, steady_clock::now() + seconds(10), 0};
      auto r = co_await bank.transfers.transfer(c, req);
      retries += static_cast<std::uint64_t>(c.attempts - 1);
      if (r) ++done;
      else ++failed;
    }
  };
  // Let the pool open its connections before the clock starts.
  while (pool.stats().idle.load() < opt.clients) ioc.run_for(milliseconds(10));
  const auto started = steady_clock::now();
  for (int i = 0; i < opt.clients; ++i) net::co_spawn(ioc, client(i), net::detached);
  while (steady_clock::now() < stop_at + milliseconds(200)) ioc.run_for(milliseconds(50));
  const double elapsed = duration<double>(steady_clock::now() - started).count();
  pool.close();
  if (failed > 0) std::cerr << "db-bench: " << failed << " transfers failed\n";
  return {static_cast<double>(done) / std::min(elapsed, static_cast<double>(opt.seconds)), retries.load()};
}

std::string pgbench_script(const options& opt, bool pipelined) {
  const auto first = std::to_string(opt.first_account);
  const auto n = std::to_string(opt.accounts);
  std::string s = "\\set from " + first + " + random(0, " + n + " - 1)\n"
                  "\\set to " + first + " + ((:from - " + first + " + random(1, " + n + " - 1)) % " + n + ")\n"
                  "\\set amount random(1, 100)\n";
  if (pipelined) s += "\\startpipeline\n";
  s += "BEGIN ISOLATION LEVEL SERIALIZABLE;\n"
       "UPDATE accounts SET balance = balance - :amount WHERE id = :from;\n"
       "UPDATE accounts SET balance = balance + :amount WHERE id = :to;\n"
       "INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, "
       "from_balance_after, from_held_after, to_balance_after, to_held_after) "
       "SELECT :from, :to, 'XTS', :amount, 0, 'pgb-' || txid_current(), f.balance, f.held, t.balance, t.held "
       "FROM accounts f, accounts t WHERE f.id = :from AND t.id = :to;\n"
       "END;\n";
  if (pipelined) s += "\\endpipeline\n";
  return s;
}

double run_pgbench(const options& opt, bool pipelined) {
  const auto path = std::filesystem::temp_directory_path() / (pipelined ? "db-bench-pipe.sql" : "db-bench-plain.sql");
  std::ofstream(path) << pgbench_script(opt, pipelined);
  const std::string command = "pgbench -n -M prepared --max-tries=10 -c " + std::to_string(opt.clients) +
                              " -j 2 -T " + std::to_string(opt.seconds) + " -f " + path.string() + " '" +
                              opt.database_url + "' 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) throw std::runtime_error("cannot run pgbench");
  double tps = 0;
  char line[512];
  while (std::fgets(line, sizeof line, out) != nullptr)
    if (std::sscanf(line, "tps = %lf", &tps) == 1) break;
  while (std::fgets(line, sizeof line, out) != nullptr) {
  }
  ::pclose(out);
  std::filesystem::remove(path);
  return tps;
}

}  // namespace

int main(int argc, char* argv[]) {
  options opt;
  po::options_description desc("db-bench options");
  desc.add_options()("help,h", "show this help")(
      "database-url", po::value(&opt.database_url)->required(), "migrated bankd database")(
      "clients", po::value(&opt.clients)->default_value(opt.clients), "concurrent transactions")(
      "accounts", po::value(&opt.accounts)->default_value(opt.accounts), "accounts to pick from")(
      "seconds", po::value(&opt.seconds)->default_value(opt.seconds), "duration of each run");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    po::notify(vm);
    log::set_level(log::level::warn);
    set_up(opt);
    const double plain = run_pgbench(opt, false);
    const double pipelined = run_pgbench(opt, true);
    const auto pool = run_pool(opt);
    const auto title = "run (" + std::to_string(opt.clients) + " clients, " + std::to_string(opt.seconds) + " s)";
    std::printf("%-34s %10s %8s\n", title.c_str(), "tps", "ratio");
    std::printf("%-34s %10.0f %8s\n", "pgbench, one round trip per stmt", plain, "");
    std::printf("%-34s %10.0f %8s\n", "pgbench, pipelined", pipelined, "");
    std::printf("%-34s %10.0f %7.2fx  (vs plain %.2fx, %llu retries)\n", "bankd pool + transaction runner",
                pool.tps, pool.tps / pipelined, pool.tps / plain,
                static_cast<unsigned long long>(pool.retries));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "db-bench: " << e.what() << "\n";
    return 1;
  }
}
