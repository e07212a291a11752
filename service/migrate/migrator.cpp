#include "migrate/migrator.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <memory>

namespace bankd::migrate {
namespace fs = std::filesystem;

namespace {

// Key of the session advisory lock that serialises concurrent runs: the bytes
// "bankd.mi" read as a big-endian integer.
constexpr const char* lock_key = "7089068695979191657";

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

class session {
public:
  explicit session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw failure("cannot connect to the database: " + message);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() { PQfinish(conn_); }

  // Runs SQL (several statements allowed when there are no parameters).
  result_ptr run(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    result_ptr res(params.empty() ? PQexec(conn_, sql.c_str())
                                  : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                                 nullptr, values.data(), nullptr, nullptr, 0),
                   &PQclear);
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      throw failure(std::string(PQresultErrorMessage(res.get())) + " (SQLSTATE " + (state ? state : "?") + ")");
    }
    return res;
  }

  // Best effort, for clean-up paths.
  void quietly(const char* sql) { PQclear(PQexec(conn_, sql)); }

private:
  PGconn* conn_;
};

// Holds the advisory lock for its lifetime.
class run_lock {
public:
  explicit run_lock(session& s) : s_(s) { s_.run("SELECT pg_advisory_lock($1)", {lock_key}); }
  ~run_lock() { s_.quietly("SELECT pg_advisory_unlock_all()"); }
  run_lock(const run_lock&) = delete;
  run_lock& operator=(const run_lock&) = delete;

private:
  session& s_;
};

std::vector<applied_migration> read_applied(session& s) {
  auto exists = s.run("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (std::string_view(PQgetvalue(exists.get(), 0, 0)) != "t") return {};
  auto res = s.run("SELECT version, name, checksum, applied_at::text FROM schema_migrations ORDER BY version");
  std::vector<applied_migration> applied;
  applied.reserve(static_cast<std::size_t>(PQntuples(res.get())));
  for (int row = 0; row < PQntuples(res.get()); ++row)
    applied.push_back({std::stoi(PQgetvalue(res.get(), row, 0)), PQgetvalue(res.get(), row, 1),
                       PQgetvalue(res.get(), row, 2), PQgetvalue(res.get(), row, 3)});
  return applied;
}

// Checks applied migrations against the files and returns the pending ones.
std::vector<migration> pending_after_checks(const std::vector<applied_migration>& applied,
                                            const std::vector<migration>& files) {
  std::map<int, const migration*> by_version;
  for (const auto& m : files) by_version[m.version] = &m;
  int highest_applied = 0;
  for (const auto& a : applied) {
    highest_applied = std::max(highest_applied, a.version);
    const auto it = by_version.find(a.version);
    if (it == by_version.end())
      throw failure("migration " + std::to_string(a.version) + " (" + a.name +
                    ") is applied but its file is missing");
    if (it->second->checksum != a.checksum)
      throw failure("migration " + it->second->filename + " was changed after it was applied (checksum " +
                    it->second->checksum + ", applied " + a.checksum + ")");
  }
  std::vector<migration> pending;
  for (const auto& m : files) {
    const bool done = std::any_of(applied.begin(), applied.end(), [&](const auto& a) { return a.version == m.version; });
    if (done) continue;
    if (m.version < highest_applied)
      throw failure("migration " + m.filename + " is older than the newest applied one (" +
                    std::to_string(highest_applied) + ") and would be applied out of order");
    pending.push_back(m);
  }
  return pending;
}

void apply_one(session& s, const migration& m) {
  s.run("BEGIN");
  try {
    s.run(m.sql);
    s.run("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
          {std::to_string(m.version), m.name, m.checksum});
    s.run("COMMIT");
  } catch (const failure& e) {
    s.quietly("ROLLBACK");
    throw failure("migration " + m.filename + " failed: " + e.what());
  }
}

}  // namespace

std::vector<std::string> apply_all(const std::string& conninfo, const fs::path& dir) {
  const auto files = discover(dir);
  session s(conninfo);
  run_lock lock(s);
  s.run("CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
  std::vector<std::string> applied_now;
  for (const auto& m : pending_after_checks(read_applied(s), files)) {
    apply_one(s, m);
    applied_now.push_back(m.filename);
  }
  return applied_now;
}

status_report status(const std::string& conninfo, const fs::path& dir) {
  const auto files = discover(dir);
  session s(conninfo);
  status_report report;
  report.applied = read_applied(s);
  report.pending = pending_after_checks(report.applied, files);
  return report;
}

}  // namespace bankd::migrate
