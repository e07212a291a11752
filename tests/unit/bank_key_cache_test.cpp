// The API-key cache the worker threads share, without a database.

#include "bank/key_cache.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace bankd::bank;
using namespace std::chrono_literals;

namespace {

// The user a digest is remembered as verified for, if any.
std::optional<std::int64_t> verified(key_cache& cache, const std::string& digest, key_cache::clock::time_point now) {
  return cache.find(digest, now).user_id;
}

// True while the digest is remembered as matching nobody.
bool refused(key_cache& cache, const std::string& digest, key_cache::clock::time_point now) {
  const auto known = cache.find(digest, now);
  return known.remembered && !known.user_id;
}

}  // namespace

TEST_CASE("key cache: a verified key answers until its deadline, then is gone") {
  key_cache cache;
  const auto t0 = key_cache::clock::now();
  CHECK_FALSE(verified(cache, "d1", t0));
  cache.remember_verified("d1", 42, t0 + 1s);
  CHECK(verified(cache, "d1", t0 + 999ms) == 42);
  CHECK_FALSE(verified(cache, "d1", t0 + 1s));
  CHECK_FALSE(verified(cache, "d1", t0));  // expired entries are dropped, not revived
  CHECK_FALSE(refused(cache, "d1", t0));
}

TEST_CASE("key cache: refusals expire on their own") {
  key_cache cache;
  const auto t0 = key_cache::clock::now();
  cache.remember_refused("bad", t0 + 2s);
  CHECK(refused(cache, "bad", t0 + 1s));
  CHECK_FALSE(verified(cache, "bad", t0 + 1s));
  CHECK_FALSE(refused(cache, "bad", t0 + 2s));
}

TEST_CASE("key cache: forgetting a key or a user takes effect at once") {
  key_cache cache;
  const auto t0 = key_cache::clock::now();
  cache.remember_verified("a1", 1, t0 + 10s);
  cache.remember_verified("a2", 1, t0 + 10s);
  cache.remember_verified("b1", 2, t0 + 10s);
  cache.forget_key("a1");
  CHECK_FALSE(verified(cache, "a1", t0));
  CHECK(verified(cache, "a2", t0) == 1);
  cache.forget_user(1);
  CHECK_FALSE(verified(cache, "a2", t0));
  CHECK(verified(cache, "b1", t0) == 2);
}

TEST_CASE("key cache: never holds more than its limit") {
  key_cache cache(2);
  const auto t0 = key_cache::clock::now();
  cache.remember_verified("k1", 1, t0 + 10s);
  cache.remember_verified("k2", 2, t0 + 10s);
  cache.remember_verified("k3", 3, t0 + 10s);  // full: cleared, then k3 kept
  CHECK_FALSE(verified(cache, "k1", t0));
  CHECK_FALSE(verified(cache, "k2", t0));
  CHECK(verified(cache, "k3", t0) == 3);
}

TEST_CASE("key cache: threads share entries and forgetting") {
  key_cache cache;
  const auto t0 = key_cache::clock::now();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const auto digest = "k" + std::to_string(i % 50);
        cache.remember_verified(digest, i % 50, t0 + 10s);
        if (const auto user = verified(cache, digest, t0); user && *user != i % 50) ++wrong;
        if (t == 0 && i % 100 == 0) cache.forget_user(i % 50);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  cache.forget_user(7);
  CHECK_FALSE(verified(cache, "k7", t0));
  CHECK(verified(cache, "k8", t0) == 8);
}
