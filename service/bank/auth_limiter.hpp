#pragma once
// How many failed authentications each client address may make: a token
// bucket per address (a burst, then a steady rate). Only failures spend
// tokens, so a client with a valid key is never slowed down by it; one that
// presents unknown keys is refused before its lookups reach the database.
//
// Thread-safe (one mutex): bankd's worker threads share one instance, and
// only lookups that miss the key cache ask it.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bankd::bank {

class auth_limiter {
public:
  using clock = std::chrono::steady_clock;

  // `burst` failures at once, then `per_second`; at most `max_clients`
  // addresses are remembered (the quietest are forgotten first when full).
  auth_limiter(unsigned burst, unsigned per_second, std::size_t max_clients = 100'000)
      : burst_(burst), per_second_(per_second), max_clients_(max_clients) {}

  // False when `client` has no failure left to spend right now.
  bool may_try(std::string_view client, clock::time_point now = clock::now());
  void failed(std::string_view client, clock::time_point now = clock::now());

private:
  struct bucket {
    double tokens;
    clock::time_point updated;
  };
  bucket& refill(std::string_view client, clock::time_point now);

  unsigned burst_;
  unsigned per_second_;
  std::size_t max_clients_;
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> clients_;
};

}  // namespace bankd::bank
