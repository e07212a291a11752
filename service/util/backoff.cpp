#include "util/backoff.hpp"

#include <algorithm>
#include <random>

namespace bankd::util {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::chrono::microseconds uniform(std::int64_t low, std::int64_t high) {
  if (high <= low) return std::chrono::microseconds(low);
  std::uniform_int_distribution<std::int64_t> dist(low, high);
  return std::chrono::microseconds(dist(generator()));
}

}  // namespace

std::chrono::microseconds full_jitter(int attempt, std::chrono::microseconds base,
                                      std::chrono::microseconds cap) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const auto ceiling = std::min<std::int64_t>(cap.count(), base.count() << shift);
  return uniform(0, ceiling);
}

std::chrono::microseconds equal_jitter(std::chrono::microseconds delay) {
  return uniform(delay.count() / 2, delay.count());
}

}  // namespace bankd::util
