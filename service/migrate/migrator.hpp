#pragma once
// Versioned schema migrations.
//
// Files in the migration directory are named NNN_description.sql (NNN: three or
// more digits; description: lower-case letters, digits and underscores). They
// are applied in version order, each in its own transaction, and recorded in
// schema_migrations with version, name, SHA-256 checksum and time. A
// PostgreSQL advisory lock held for the whole run makes concurrent runs (several
// replicas starting at once) apply each migration exactly once.
//
// These functions use blocking libpq: they run from the command line or at
// start-up, before any event loop exists. Problems (bad file names, an applied
// migration edited or missing, SQL errors) throw migrate::failure with a
// message meant for the operator.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::migrate {

struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct migration {
  int version = 0;
  std::string name;      // description part of the file name
  std::string filename;  // NNN_description.sql
  std::string sql;
  std::string checksum;  // lower-case hex SHA-256 of the file's bytes
};

// Parses "NNN_description.sql"; false for anything else.
bool parse_filename(std::string_view filename, int& version, std::string& name);

// Reads every *.sql file of `dir`, sorted by version. Throws failure for a
// malformed *.sql name, a duplicate version or an unreadable directory. Files
// not ending in .sql are ignored.
std::vector<migration> discover(const std::filesystem::path& dir);

struct applied_migration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;  // as PostgreSQL prints timestamptz
};

struct status_report {
  std::vector<applied_migration> applied;
  std::vector<migration> pending;
};

// Applies every pending migration; returns the file names it applied (empty
// when the database was already up to date).
std::vector<std::string> apply_all(const std::string& conninfo, const std::filesystem::path& dir);

// What is applied and what is pending, checking the same consistency rules.
status_report status(const std::string& conninfo, const std::filesystem::path& dir);

// Where an installed (or built) bankd finds its migrations: the
// BANKD_MIGRATIONS_DIR environment variable if set, else
// <directory of the executable>/../share/bankd/migrations.
std::filesystem::path default_directory();

}  // namespace bankd::migrate
