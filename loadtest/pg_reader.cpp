#include "loadtest/pg_reader.hpp"

#include <stdexcept>

namespace bankd::loadtest {

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string error_of(PGconn* conn) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

}  // namespace

pg_reader::pg_reader(const std::string& database_url) {
  // expand_dbname: the URL or conninfo fills every setting. Read-only comes
  // from the transaction below, not from default_transaction_read_only: with
  // that, a multi-host URL's target_session_attrs=read-write refuses every node.
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {database_url.c_str(), "bank-loadtest verifier", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const auto message = error_of(conn_);
    PQfinish(conn_);
    throw std::runtime_error("cannot connect to the database: " + message);
  }
  exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

pg_reader::~pg_reader() {
  PQfinish(conn_);
}

void pg_reader::exec(const std::string& sql) {
  result_ptr r(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error(sql + ": " + error_of(conn_));
}

std::vector<pg_reader::row> pg_reader::query(const std::string& sql,
                                             const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  result_ptr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw std::runtime_error(error_of(conn_));
  std::vector<row> rows(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i)
    for (int c = 0; c < PQnfields(r.get()); ++c)
      rows[static_cast<std::size_t>(i)].emplace_back(PQgetvalue(r.get(), i, c));
  return rows;
}

}  // namespace bankd::loadtest
