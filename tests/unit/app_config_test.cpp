// Configuration: flags override environment variables; bad values are
// refused with a message.

#include "app/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace bankd::app;

namespace {

config parse(std::vector<const char*> args) {
  args.insert(args.begin(), "bankd");
  return parse_config(static_cast<int>(args.size()), args.data());
}

struct env_var {
  env_var(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~env_var() { ::unsetenv(name_); }
  const char* name_;
};

}  // namespace

TEST_CASE("defaults") {
  const auto c = parse({});
  CHECK(c.cmd == command::serve);
  CHECK(c.port == 8080);
  CHECK(c.pool_size == 16);
  CHECK(c.pool_max == 16);
  CHECK(c.max_retries == 10);
  CHECK(c.threads >= 1);
}

TEST_CASE("environment variables configure, flags override them") {
  env_var port("PORT", "9000");
  env_var pool("POOL_SIZE", "4");
  env_var url("DATABASE_URL", "postgresql://env/db");
  CHECK(parse({}).port == 9000);
  CHECK(parse({}).pool_size == 4);
  CHECK(parse({}).database_url == "postgresql://env/db");
  const auto c = parse({"--port", "9100", "--database-url", "postgresql://flag/db"});
  CHECK(c.port == 9100);
  CHECK(c.database_url == "postgresql://flag/db");
}

TEST_CASE("commands and their flags") {
  CHECK(parse({"migrate"}).cmd == command::migrate);
  CHECK(parse({"migrate", "--status"}).migrate_status);
  CHECK(parse({"healthcheck"}).cmd == command::healthcheck);
  const auto help = parse({"--help"});
  CHECK(help.cmd == command::help);
  CHECK(help.help_text.find("DATABASE_URL") != std::string::npos);
  CHECK(help.help_text.find("BANKD_OPERATOR_KEY") != std::string::npos);
}

TEST_CASE("bad values are refused") {
  CHECK_THROWS_AS(parse({"frobnicate"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--port", "70000"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--port", "0"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--pool-size", "0"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--pool-size", "8", "--pool-max", "4"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--log-level", "chatty"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--query-timeout-ms", "-5"}), std::invalid_argument);
  CHECK_THROWS_AS(parse({"--no-such-flag"}), std::invalid_argument);
}
