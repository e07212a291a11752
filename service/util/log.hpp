#pragma once
// Structured logging: one logfmt line per event on stderr, e.g.
//   2026-11-25T03:04:05.123Z INFO http.request method=POST path=/transfers status=201 ms=1.2
// Safe to call from any thread: each line is assembled privately and handed
// whole to a bounded buffer (1 MiB) that one writer thread empties into
// stderr. Logging never waits for stderr: while the buffer is full (stderr is
// a pipe nobody reads, a slow terminal), new lines are dropped and counted
// (dropped_lines(), the metric bankd_log_lines_dropped_total). At exit the
// buffer is written out for up to a second.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(level lvl) noexcept;
level current_level() noexcept;
std::optional<level> parse_level(std::string_view text) noexcept;
inline bool enabled(level lvl) noexcept { return lvl >= current_level(); }

// Lines dropped so far because the buffer was full.
std::uint64_t dropped_lines() noexcept;
// Waits until every line logged so far was written, at most `max_wait`;
// false when some were still waiting.
bool flush(std::chrono::milliseconds max_wait);

// Accumulates key=value pairs and writes the line when destroyed.
// Build it in one expression: log::info("pool.connected").kv("pid", pid);
class line {
public:
  line(level lvl, std::string_view event);
  line(const line&) = delete;
  line& operator=(const line&) = delete;
  ~line();

  line& kv(std::string_view key, std::string_view value);
  line& kv(std::string_view key, const char* value) { return kv(key, std::string_view{value}); }
  line& kv(std::string_view key, bool value) { return kv(key, value ? "true" : "false"); }
  line& kv(std::string_view key, double value);
  template <std::integral T>
  line& kv(std::string_view key, T value) {
    if (!enabled_) return *this;
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;
    return raw(key, std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }

private:
  line& raw(std::string_view key, std::string_view value);
  bool enabled_;
  std::string text_;
};

inline line debug(std::string_view event) { return line(level::debug, event); }
inline line info(std::string_view event) { return line(level::info, event); }
inline line warn(std::string_view event) { return line(level::warn, event); }
inline line error(std::string_view event) { return line(level::error, event); }

}  // namespace bankd::log
