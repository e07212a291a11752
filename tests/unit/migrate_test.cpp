// Migration discovery: file names, ordering, checksums. No database.

#include "migrate/migrator.hpp"
#include "util/crypto.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace bankd::migrate;

namespace {

class temp_dir {
public:
  temp_dir() : path_(fs::temp_directory_path() / ("bankd-migrate-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path_);
  }
  ~temp_dir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path_ / name) << text; }

private:
  fs::path path_;
};

}  // namespace

TEST_CASE("migration file names are NNN_description.sql") {
  int version = 0;
  std::string name;
  CHECK(parse_filename("001_core_schema.sql", version, name));
  CHECK(version == 1);
  CHECK(name == "core_schema");
  CHECK(parse_filename("1234_add_x2.sql", version, name));
  CHECK(version == 1234);
  for (const char* bad : {"01_short.sql", "abc_name.sql", "001-name.sql", "001_Name.sql", "001_.sql",
                          "001_name.SQL", "001_name.txt", "001name.sql", "_001_name.sql", "001_na me.sql"}) {
    INFO(bad);
    CHECK_FALSE(parse_filename(bad, version, name));
  }
}

TEST_CASE("discovery sorts by version number, not by text") {
  temp_dir dir;
  dir.write("010_tenth.sql", "SELECT 10;");
  dir.write("002_second.sql", "SELECT 2;");
  dir.write("001_first.sql", "SELECT 1;");
  dir.write("README.md", "not a migration");
  const auto found = discover(dir.path());
  REQUIRE(found.size() == 3);
  CHECK(found[0].version == 1);
  CHECK(found[1].version == 2);
  CHECK(found[2].version == 10);
  CHECK(found[2].filename == "010_tenth.sql");
  CHECK(found[0].sql == "SELECT 1;");
  CHECK(found[0].checksum == bankd::util::sha256_hex("SELECT 1;"));
}

TEST_CASE("malformed names and duplicate versions are refused") {
  temp_dir dir;
  dir.write("001_first.sql", "SELECT 1;");
  SECTION("a malformed .sql name") {
    dir.write("2_second.sql", "SELECT 2;");
    CHECK_THROWS_WITH(discover(dir.path()), Catch::Contains("2_second.sql"));
  }
  SECTION("two files with one version") {
    dir.write("0001_again.sql", "SELECT 1;");
    CHECK_THROWS_AS(discover(dir.path()), failure);
  }
}

TEST_CASE("a missing directory is refused") {
  CHECK_THROWS_AS(discover("/nonexistent/bankd/migrations"), failure);
}

TEST_CASE("checksums are SHA-256 of the file's bytes") {
  CHECK(bankd::util::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(bankd::util::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(bankd::util::sha256_hex("SELECT 1;") != bankd::util::sha256_hex("SELECT 1; "));
}
