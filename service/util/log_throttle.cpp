#include "util/log_throttle.hpp"

#include <utility>

namespace bankd::util {

std::optional<std::uint64_t> log_throttle::admit(std::string_view cause, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = causes_.find(std::string(cause));
  if (it == causes_.end()) {
    causes_.emplace(std::string(cause), entry{now, 0});
    return 0;
  }
  auto& e = it->second;
  if (now - e.last_written < interval_) {
    ++e.held_back;
    return std::nullopt;
  }
  e.last_written = now;
  return std::exchange(e.held_back, 0);
}

log_throttle& log_throttle::shared() {
  static log_throttle instance;
  return instance;
}

}  // namespace bankd::util
