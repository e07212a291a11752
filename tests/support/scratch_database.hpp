#pragma once
// Per-test databases on the cluster scripts/test.sh started.
//
// Environment contract with scripts/test.sh:
//   BANKD_TEST_DATABASE_URL  conninfo of a superuser connection to the test cluster
//   BANKD_TEST_PGCTL         an executable taking start | stop | restart for that cluster

#include <string>
#include <string_view>

namespace bankd::test {

std::string admin_conninfo();
// `conninfo` with its database replaced by `dbname`, as a keyword/value string.
std::string with_dbname(const std::string& conninfo, const std::string& dbname);
std::string with_user(const std::string& conninfo, const std::string& user);
std::string with_option(const std::string& conninfo, const std::string& keyword, const std::string& value);
std::string migrations_dir();
std::string bankd_binary();

// Runs $BANKD_TEST_PGCTL <action>; throws when it fails.
void control_cluster(std::string_view action);

// A uniquely named database created for one test and dropped (FORCE) after it.
class scratch_database {
public:
  enum class schema { empty, migrated };
  explicit scratch_database(schema initial = schema::migrated);
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;
  ~scratch_database();

  const std::string& name() const noexcept { return name_; }
  // The cluster's superuser on this database: migrations, set-up, checks.
  const std::string& conninfo() const noexcept { return conninfo_; }
  // The role `bankd serve` runs as (migrated databases only): a login role
  // "<name>_serve", member of "<name>_app" (migration 007) and nothing more.
  const std::string& serve_conninfo() const noexcept { return serve_conninfo_; }

private:
  std::string name_;
  std::string conninfo_;
  std::string serve_conninfo_;
};

// The serve role's conninfo for a scratch database's conninfo, so that every
// bankd a test starts runs with the privileges it has in production; any
// other conninfo is returned as it is. Thread-safe.
std::string serve_conninfo_for(const std::string& conninfo);

}  // namespace bankd::test
