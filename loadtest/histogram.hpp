#pragma once
// A latency histogram in the manner of HdrHistogram: log-linear buckets, so
// every recorded value is kept within 1/128 (< 0.8 %) of its true value from
// 1 µs up to days, in a fixed 35 KiB. Quantiles report the highest value of
// the bucket they fall in, so they never understate a latency. Not thread-safe:
// one recorder, or merge copies.

#include <cstdint>
#include <vector>

namespace bankd::loadtest {

class histogram {
 public:
  histogram();

  void record(std::uint64_t value);
  void merge(const histogram& other);
  void reset();

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  // q in [0, 1]; 0 when empty.
  std::uint64_t quantile(double q) const;

  // Bucket arithmetic, public for tests.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t highest_in(std::size_t bucket);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace bankd::loadtest
