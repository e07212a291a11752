#include "migrate/migrator.hpp"

#include "util/crypto.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace bankd::migrate {
namespace fs = std::filesystem;

bool parse_filename(std::string_view filename, int& version, std::string& name) {
  constexpr std::string_view extension = ".sql";
  if (filename.size() <= extension.size() || !filename.ends_with(extension)) return false;
  const auto stem = filename.substr(0, filename.size() - extension.size());
  const auto underscore = stem.find('_');
  if (underscore == std::string_view::npos || underscore < 3 || underscore + 1 == stem.size())
    return false;
  const auto digits = stem.substr(0, underscore);
  const auto description = stem.substr(underscore + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (!std::all_of(description.begin(), description.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      }))
    return false;
  int parsed = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return false;
  version = parsed;
  name = std::string(description);
  return true;
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw failure("cannot read " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

std::vector<migration> discover(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw failure("migration directory " + dir.string() + " does not exist");
  std::vector<migration> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto filename = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;  // README and friends
    migration m;
    if (!parse_filename(filename, m.version, m.name))
      throw failure("migration file name " + filename + " does not match NNN_description.sql");
    m.filename = filename;
    m.sql = read_file(entry.path());
    m.checksum = util::sha256_hex(m.sql);
    found.push_back(std::move(m));
  }
  if (ec) throw failure("cannot list " + dir.string() + ": " + ec.message());
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < found.size(); ++i)
    if (found[i].version == found[i - 1].version)
      throw failure("migrations " + found[i - 1].filename + " and " + found[i].filename +
                    " have the same version");
  return found;
}

fs::path default_directory() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): called at start-up, before any thread.
  if (const char* dir = std::getenv("BANKD_MIGRATIONS_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "share/bankd/migrations";
  return (exe.parent_path() / ".." / "share" / "bankd" / "migrations").lexically_normal();
}

}  // namespace bankd::migrate
