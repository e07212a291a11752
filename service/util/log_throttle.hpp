#pragma once
// Rate limit for log lines that an outage repeats: a warning per failed
// connect or per refused request would fill the log with one cause. At most
// one line per cause per interval is let through, and that line carries the
// number of lines held back since the previous one.
//
// Thread-safe: bankd's worker threads share one instance (shared()); a mutex
// is enough because only failure paths call it.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bankd::util {

class log_throttle {
 public:
  using clock = std::chrono::steady_clock;

  explicit log_throttle(clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // nullopt: hold this line back. Otherwise write it, with the returned count
  // of lines held back for `cause` since the last one written (0 at first).
  std::optional<std::uint64_t> admit(std::string_view cause, clock::time_point now = clock::now());

  // The process-wide instance the pool and the request handlers use.
  static log_throttle& shared();

 private:
  struct entry {
    clock::time_point last_written;
    std::uint64_t held_back = 0;
  };
  clock::duration interval_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> causes_;
};

}  // namespace bankd::util
