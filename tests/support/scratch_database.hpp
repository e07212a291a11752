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
  const std::string& conninfo() const noexcept { return conninfo_; }

private:
  std::string name_;
  std::string conninfo_;
};

}  // namespace bankd::test
