// Runner for integration tests: they need the PostgreSQL that scripts/test.sh
// starts. Without BANKD_TEST_DATABASE_URL they report "skipped" to ctest (exit
// code 77) instead of failing, so a plain `ctest` on a machine without the
// test cluster still runs the unit tests cleanly.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

int main(int argc, char* argv[]) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--list") || arg == "-l" || arg == "-h" || arg == "--help") listing = true;
  }
  if (!listing && std::getenv("BANKD_TEST_DATABASE_URL") == nullptr) {
    std::fputs("skipped: BANKD_TEST_DATABASE_URL is not set (run ./scripts/test.sh)\n", stderr);
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
