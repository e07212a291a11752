#include "loadtest/workload.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bankd::loadtest {

rank_sampler::rank_sampler(const distribution& d, std::size_t n) : n_(n), span_(n) {
  if (n < 2) throw std::invalid_argument("a transfer needs at least two accounts");
  if (d.type == distribution::kind::hot) {
    if (d.hot_accounts < 2 || d.hot_accounts > n)
      throw std::invalid_argument("hot:K needs 2 <= K <= accounts");
    span_ = d.hot_accounts;
  }
  if (d.type == distribution::kind::zipf) {
    cdf_.reserve(n);
    double sum = 0;
    for (std::size_t r = 0; r < n; ++r)
      cdf_.push_back(sum += 1.0 / std::pow(static_cast<double>(r + 1), d.skew));
    for (auto& c : cdf_) c /= sum;
  }
}

std::size_t rank_sampler::draw(std::mt19937_64& rng) const {
  if (cdf_.empty()) return std::uniform_int_distribution<std::size_t>(0, span_ - 1)(rng);
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<std::size_t>(it - cdf_.begin()), n_ - 1);
}

transfer_planner::transfer_planner(const distribution& d,
                                   const std::vector<std::size_t>& currency_of,
                                   std::int64_t amount_min, std::int64_t amount_max,
                                   std::uint64_t seed)
    : rng_(seed), amount_(amount_min, amount_max) {
  for (std::size_t i = 0; i < currency_of.size(); ++i) {
    if (currency_of[i] >= groups_.size()) groups_.resize(currency_of[i] + 1);
    groups_[currency_of[i]].push_back(static_cast<std::uint32_t>(i));
  }
  for (const auto& g : groups_) samplers_.emplace_back(d, g.size());
}

std::size_t transfer_planner::draw_other(const rank_sampler& sampler, std::size_t from) {
  auto to = sampler.draw(rng_);
  // Skewed draws repeat the top rank often; a bounded number of redraws keeps
  // the distribution and the loop finite.
  for (int i = 0; to == from && i < 64; ++i) to = sampler.draw(rng_);
  if (to == from) to = (from + 1) % sampler.span();
  return to;
}

planned_transfer transfer_planner::next() {
  const auto g = std::uniform_int_distribution<std::size_t>(0, groups_.size() - 1)(rng_);
  const auto& sampler = samplers_[g];
  const auto from = sampler.draw(rng_);
  const auto to = draw_other(sampler, from);
  return {groups_[g][from], groups_[g][to], amount_(rng_)};
}

std::vector<planned_transfer> transfer_planner::next_batch(std::size_t n) {
  const auto g = std::uniform_int_distribution<std::size_t>(0, groups_.size() - 1)(rng_);
  const auto& sampler = samplers_[g];
  const auto from = sampler.draw(rng_);
  std::vector<planned_transfer> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({groups_[g][from], groups_[g][draw_other(sampler, from)], amount_(rng_)});
  return out;
}

}  // namespace bankd::loadtest
