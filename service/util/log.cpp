#include "util/log.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace bankd::log {
namespace {

std::atomic<level> g_level{level::info};

// The one writer of stderr. Made on first use and never destroyed, so that
// lines logged by other static destructors still have somewhere to go and
// its thread is never joined at exit (it may be stuck in write(2)).
class sink {
public:
  static constexpr std::size_t max_pending = std::size_t{1} << 20;

  static sink& instance() {
    static sink* const one = new sink();
    return *one;
  }

  void push(std::string_view text) {
    {
      std::lock_guard lock(mutex_);
      if (pending_.size() + text.size() > max_pending) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      pending_.append(text);
    }
    wake_.notify_one();
  }

  bool flush(std::chrono::milliseconds max_wait) {
    std::unique_lock lock(mutex_);
    return drained_.wait_for(lock, max_wait, [&] { return pending_.empty() && !writing_; });
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
  sink() {
    std::thread([this] { run(); }).detach();
    std::atexit([] { instance().flush(std::chrono::seconds(1)); });
  }

  void run() {
    std::string batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        writing_ = false;
        drained_.notify_all();
        wake_.wait(lock, [&] { return !pending_.empty(); });
        batch.swap(pending_);
        pending_.clear();
        writing_ = true;
      }
      write_all(batch);
      batch.clear();
    }
  }

  // Lines stay whole: this thread is stderr's only writer.
  static void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::write(STDERR_FILENO, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stderr is gone (closed, EPIPE): nothing to do but drop
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::string pending_;
  bool writing_ = false;
  std::atomic<std::uint64_t> dropped_{0};
};

constexpr std::string_view level_name(level lvl) {
  switch (lvl) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warn: return "WARN";
    case level::error: return "ERROR";
  }
  return "INFO";
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const auto n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                               tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  out.append(buf, static_cast<std::size_t>(n));
}

bool needs_quotes(std::string_view value) {
  return value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
           return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
         });
}

void append_quoted(std::string& out, std::string_view value) {
  out.push_back('"');
  for (const char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

void set_level(level lvl) noexcept { g_level.store(lvl, std::memory_order_relaxed); }
level current_level() noexcept { return g_level.load(std::memory_order_relaxed); }

std::optional<level> parse_level(std::string_view text) noexcept {
  if (text == "debug") return level::debug;
  if (text == "info") return level::info;
  if (text == "warn" || text == "warning") return level::warn;
  if (text == "error") return level::error;
  return std::nullopt;
}

line::line(level lvl, std::string_view event) : enabled_(enabled(lvl)) {
  if (!enabled_) return;
  text_.reserve(160);
  append_timestamp(text_);
  text_.push_back(' ');
  text_ += level_name(lvl);
  text_.push_back(' ');
  text_ += event;
}

line::~line() {
  if (!enabled_) return;
  text_.push_back('\n');
  sink::instance().push(text_);
}

std::uint64_t dropped_lines() noexcept { return sink::instance().dropped(); }

bool flush(std::chrono::milliseconds max_wait) { return sink::instance().flush(max_wait); }

line& line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  text_.push_back(' ');
  text_ += key;
  text_.push_back('=');
  if (needs_quotes(value)) append_quoted(text_, value);
  else text_ += value;
  return *this;
}

line& line::kv(std::string_view key, double value) {
  if (!enabled_) return *this;
  char buf[32];
  const auto n = std::snprintf(buf, sizeof buf, "%.3f", value);
  return raw(key, std::string_view(buf, static_cast<std::size_t>(n)));
}

line& line::raw(std::string_view key, std::string_view value) {
  text_.push_back(' ');
  text_ += key;
  text_.push_back('=');
  text_ += value;
  return *this;
}

}  // namespace bankd::log

#include "util/spawn.hpp"

#include <stdexcept>

namespace bankd::util {

void log_failure::operator()(const std::exception_ptr& e) const {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("task.failed").kv("task", task).kv("what", ex.what());
  } catch (...) {
    log::error("task.failed").kv("task", task).kv("what", "unknown exception");
  }
}

}  // namespace bankd::util
