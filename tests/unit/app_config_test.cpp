// Configuration: flags override environment variables; bad values are
// refused with a message.

#include "app/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

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

TEST_CASE("operator keys: at least 32 characters, at most two, from flags, environment or a file") {
  const std::string strong = "operator-key-0123456789-abcdefghijk";
  const std::string other = "operator-key-next-0123456789-abcdef";
  CHECK(parse({"--operator-key", strong.c_str()}).operator_keys == std::vector<std::string>{strong});
  CHECK_THROWS_WITH(parse({"--operator-key", "short-key-0123456789"}),
                    Catch::Contains("at least 32 characters"));
  CHECK(parse({"--operator-key", strong.c_str(), "--operator-key", other.c_str()}).operator_keys.size() == 2);
  {
    env_var key("BANKD_OPERATOR_KEY", "weak");
    CHECK_THROWS_AS(parse({}), std::invalid_argument);
    CHECK_NOTHROW(parse({"migrate"}));  // only serve holds the key
  }
  char name[] = "/tmp/bankd-key-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  const std::string text = "\n  " + strong + "  \n" + other + "\n";
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  {
    env_var file("BANKD_OPERATOR_KEY_FILE", name);
    const auto c = parse({});
    CHECK(c.operator_keys == std::vector<std::string>{strong, other});
    const std::string third = "a-third-operator-key-0123456789-xyz";
    CHECK_THROWS_WITH(parse({"--operator-key", third.c_str()}), Catch::Contains("at most 2"));
  }
  ::unlink(name);
  CHECK_THROWS_WITH(parse({"--operator-key-file", "/nonexistent/key"}), Catch::Contains("cannot read"));
  const std::string spaced = "operator key with spaces 0123456789";
  CHECK_THROWS_AS(parse({"--operator-key", spaced.c_str()}), std::invalid_argument);
}

TEST_CASE("currencies: ISO 4217 codes with their exponent") {
  CHECK(parse({"--currencies", "EUR:2,JPY:0"}).currencies == "EUR:2,JPY:0");
  for (const char* bad : {"EUR", "eur:2", "EUR:5", "EUR:2,EUR:2", "", "EURO:2"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse({"--currencies", bad}), std::invalid_argument);
  }
  CHECK_THROWS_AS(parse({"--max-accounts-per-user", "0"}), std::invalid_argument);
}
