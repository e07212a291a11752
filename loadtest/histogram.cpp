#include "loadtest/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bankd::loadtest {

namespace {

// Values below 2^sub_bits have a bucket each; above, every power of two is
// split into `half` equal buckets.
constexpr unsigned sub_bits = 8;
constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
constexpr std::uint64_t half = sub_count / 2;
// Larger values (over 12 days in µs) are clamped: they only mean "stuck".
constexpr unsigned max_bits = 40;
constexpr std::uint64_t largest = (std::uint64_t{1} << max_bits) - 1;
constexpr std::size_t bucket_count = sub_count + (max_bits - sub_bits) * half;

}  // namespace

histogram::histogram() : counts_(bucket_count, 0) {}

std::size_t histogram::bucket_of(std::uint64_t value) {
  value = std::min(value, largest);
  if (value < sub_count) return static_cast<std::size_t>(value);
  const auto shift = static_cast<unsigned>(std::bit_width(value)) - sub_bits;  // >= 1
  const auto top = value >> shift;                                             // [half, sub_count)
  return static_cast<std::size_t>(sub_count + (shift - 1) * half + (top - half));
}

std::uint64_t histogram::highest_in(std::size_t bucket) {
  if (bucket < sub_count) return bucket;
  const auto above = bucket - sub_count;
  const auto shift = above / half + 1;
  const auto top = above % half + half;
  return ((top + 1) << shift) - 1;
}

void histogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

void histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  max_ = 0;
}

std::uint64_t histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value at q, 1-based: the smallest value with at least
  // q of all values at or below it.
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in(i), max_);
  }
  return max_;
}

}  // namespace bankd::loadtest
