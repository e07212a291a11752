#include "support/pg_session.hpp"

#include <memory>
#include <stdexcept>

namespace bankd::test {
namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

result_ptr run(PGconn* conn, const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return result_ptr(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0),
                    &PQclear);
}

bool ok(const PGresult* res) {
  const auto status = PQresultStatus(res);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

pg_session::pg_session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw std::runtime_error("test database connection failed: " + message);
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

pg_session::~pg_session() { PQfinish(conn_); }

std::vector<row> pg_session::query(const std::string& sql, const std::vector<std::string>& params) {
  auto res = run(conn_, sql, params);
  if (!ok(res.get()))
    throw std::runtime_error("query failed: " + sql + ": " + PQresultErrorMessage(res.get()));
  std::vector<row> rows;
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    row values;
    for (int c = 0; c < PQnfields(res.get()); ++c)
      values.emplace_back(PQgetisnull(res.get(), r, c) ? "<null>" : PQgetvalue(res.get(), r, c));
    rows.push_back(std::move(values));
  }
  return rows;
}

std::string pg_session::scalar(const std::string& sql, const std::vector<std::string>& params) {
  auto rows = query(sql, params);
  if (rows.size() != 1 || rows[0].size() != 1)
    throw std::runtime_error("expected exactly one value from: " + sql);
  return rows[0][0];
}

std::int64_t pg_session::scalar_int(const std::string& sql, const std::vector<std::string>& params) {
  return std::stoll(scalar(sql, params));
}

void pg_session::exec(const std::string& sql) {
  result_ptr res(PQexec(conn_, sql.c_str()), &PQclear);
  if (!ok(res.get()))
    throw std::runtime_error("statement failed: " + sql + ": " + PQresultErrorMessage(res.get()));
}

std::string pg_session::error_state(const std::string& sql, const std::vector<std::string>& params) {
  auto res = run(conn_, sql, params);
  if (ok(res.get())) return "";
  const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
  return state ? state : "?????";
}

}  // namespace bankd::test
