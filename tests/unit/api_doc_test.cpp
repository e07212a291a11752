// docs/api.md's error table against the code: every domain outcome's code
// must be listed in the row of the status bankd answers it with.

#include "api/api_error.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace bankd;

namespace {

using status_codes = std::map<unsigned, std::set<std::string>>;

// The rows "| 409 | `a`, `b` | when |" of a Markdown text: each status and
// the codes in backquotes in its second column.
status_codes error_table(const std::string& markdown) {
  status_codes out;
  static const std::regex row(R"(^\| (\d{3}) \| ([^|]*) \|)");
  static const std::regex code("`([a-z_]+)`");
  std::istringstream lines(markdown);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string codes = m[2].str();
    auto& set = out[static_cast<unsigned>(std::stoul(m[1].str()))];
    for (std::sregex_iterator it(codes.begin(), codes.end(), code), end; it != end; ++it)
      set.insert((*it)[1].str());
  }
  return out;
}

// "409 transfer_not_pending" for every outcome the table does not list
// under the status bankd gives it.
std::vector<std::string> undocumented(const status_codes& table) {
  std::vector<std::string> missing;
  for (int v = static_cast<int>(bank::errc::invalid); v <= static_cast<int>(bank::errc::internal);
       ++v) {
    const auto e = api::from_bank({static_cast<bank::errc>(v), "m"});
    const auto status = static_cast<unsigned>(e.status);
    const auto row = table.find(status);
    if (row == table.end() || row->second.count(std::string(e.code)) == 0)
      missing.push_back(std::to_string(status) + " " + std::string(e.code));
  }
  return missing;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("docs/api.md lists every domain outcome's code under the status bankd answers it with") {
  const auto table = error_table(read_file(BANKD_SOURCE_API_DOC));
  REQUIRE(table.size() >= 10);
  CHECK(undocumented(table) == std::vector<std::string>{});
}

TEST_CASE("the doc check fails for a missing code and for a code under the wrong status") {
  const std::string good = "| 409 | `transfer_not_pending`, `insufficient_funds` | ... |\n";
  const auto missing = undocumented(error_table(good));
  CHECK(std::find(missing.begin(), missing.end(), "409 transfer_not_pending") == missing.end());
  CHECK(std::find(missing.begin(), missing.end(), "422 amount_exceeds_pending") != missing.end());
  const auto wrong = undocumented(error_table("| 409 | `amount_exceeds_pending` | ... |\n"));
  CHECK(std::find(wrong.begin(), wrong.end(), "422 amount_exceeds_pending") != wrong.end());
}
