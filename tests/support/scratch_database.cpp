#include "support/scratch_database.hpp"

#include "migrate/migrator.hpp"
#include "support/pg_session.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <map>
#include <mutex>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace bankd::test {
namespace {

std::string quote_conninfo_value(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string unique_name() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "bankd_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(rd() % 100000);
}

}  // namespace

std::string admin_conninfo() {
  const char* url = std::getenv("BANKD_TEST_DATABASE_URL");
  if (url == nullptr) throw std::runtime_error("BANKD_TEST_DATABASE_URL is not set");
  return url;
}

std::string with_user(const std::string& conninfo, const std::string& user) {
  return with_option(conninfo, "user", user);
}

std::string with_dbname(const std::string& conninfo, const std::string& dbname) {
  return with_option(conninfo, "dbname", dbname);
}

std::string with_option(const std::string& conninfo, const std::string& keyword, const std::string& value) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string message = error ? error : "invalid conninfo";
    PQfreemem(error);
    throw std::runtime_error(message);
  }
  std::string out;
  for (auto* opt = options.get(); opt->keyword != nullptr; ++opt) {
    if (opt->keyword == keyword || opt->val == nullptr) continue;
    out += std::string(opt->keyword) + "=" + quote_conninfo_value(opt->val) + " ";
  }
  return out + keyword + "=" + quote_conninfo_value(value);
}

std::string migrations_dir() { return BANKD_SOURCE_MIGRATIONS_DIR; }
std::string bankd_binary() { return BANKD_BINARY; }

void control_cluster(std::string_view action) {
  const char* tool = std::getenv("BANKD_TEST_PGCTL");
  if (tool == nullptr) throw std::runtime_error("BANKD_TEST_PGCTL is not set");
  const std::string command = std::string(tool) + " " + std::string(action);
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::mutex serve_roles_mutex;
std::map<std::string, std::string> serve_roles;  // superuser conninfo -> serve role conninfo

std::string serve_conninfo_for(const std::string& conninfo) {
  std::lock_guard lock(serve_roles_mutex);
  const auto it = serve_roles.find(conninfo);
  return it == serve_roles.end() ? conninfo : it->second;
}

scratch_database::scratch_database(schema initial) : name_(unique_name()) {
  pg_session admin(admin_conninfo());
  admin.exec("CREATE DATABASE " + name_);
  conninfo_ = with_dbname(admin_conninfo(), name_);
  if (initial != schema::migrated) return;
  migrate::apply_all(conninfo_, migrations_dir());
  admin.exec("CREATE ROLE " + name_ + "_serve LOGIN IN ROLE " + name_ + "_app");
  serve_conninfo_ = with_user(conninfo_, name_ + "_serve");
  std::lock_guard lock(serve_roles_mutex);
  serve_roles[conninfo_] = serve_conninfo_;
}

scratch_database::~scratch_database() {
  {
    std::lock_guard lock(serve_roles_mutex);
    serve_roles.erase(conninfo_);
  }
  try {
    pg_session admin(admin_conninfo());
    admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    admin.exec("DROP ROLE IF EXISTS " + name_ + "_serve");
    admin.exec("DROP ROLE IF EXISTS " + name_ + "_app");
  } catch (...) {
    // The cluster may be down on purpose (restart tests); the whole cluster is
    // thrown away at the end of the run anyway.
  }
}

}  // namespace bankd::test
