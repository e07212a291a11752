#pragma once
// Which accounts a transfer touches and how much it moves. Plain code with its
// own seeded generator, so a seed reproduces a run's sequence of requests.

#include "loadtest/options.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bankd::loadtest {

// Draws a rank in [0, n) by a distribution: rank 0 is the most popular
// account for zipf; hot draws only ranks below K.
class rank_sampler {
 public:
  rank_sampler(const distribution& d, std::size_t n);
  std::size_t draw(std::mt19937_64& rng) const;
  std::size_t size() const noexcept { return n_; }
  std::size_t span() const noexcept { return span_; }  // ranks that can be drawn

 private:
  std::size_t n_;
  std::size_t span_;         // uniform and hot: ranks drawn from [0, span_)
  std::vector<double> cdf_;  // zipf: cumulative weights
};

// A transfer to send: indexes into the run's account list.
struct planned_transfer {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::int64_t amount = 0;
};

class transfer_planner {
 public:
  // currency_of[i]: the currency index of account i. Accounts of one
  // currency form a group; a transfer stays inside one group.
  transfer_planner(const distribution& d, const std::vector<std::size_t>& currency_of,
                   std::int64_t amount_min, std::int64_t amount_max, std::uint64_t seed);
  planned_transfer next();
  // `n` transfers from one account (drawn as next() draws it) to accounts
  // drawn the same way: what one batch request of its owner sends.
  std::vector<planned_transfer> next_batch(std::size_t n);

 private:
  std::size_t draw_other(const rank_sampler& sampler, std::size_t from);

  std::mt19937_64 rng_;
  std::vector<std::vector<std::uint32_t>> groups_;  // account indexes per currency
  std::vector<rank_sampler> samplers_;              // one per group
  std::uniform_int_distribution<std::int64_t> amount_;
};

}  // namespace bankd::loadtest
