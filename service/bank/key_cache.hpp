#pragma once
// What bankd remembers of API keys between database lookups: keys that
// verified (digest -> user, until a deadline) and keys that matched nobody
// (digest -> until). One instance serves every worker thread, so a busy key
// costs one lookup per process per TTL rather than one per thread, and
// forgetting a key or a user (revocation, deletion) takes effect on every
// thread of this process at once. Other instances learn within the TTL.
//
// Thread-safe (one mutex, held for a hash lookup). At most `max_entries`
// keys of each kind are kept; when full, that kind is cleared.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace bankd::bank {

class key_cache {
public:
  using clock = std::chrono::steady_clock;

  explicit key_cache(std::size_t max_entries = 100'000) : max_entries_(max_entries) {}

  // The user whose key has this digest, if verified and not yet expired.
  std::optional<std::int64_t> verified(const std::string& digest, clock::time_point now);
  // True while the digest is remembered as matching nobody.
  bool refused(const std::string& digest, clock::time_point now);

  void remember_verified(const std::string& digest, std::int64_t user_id, clock::time_point until);
  void remember_refused(const std::string& digest, clock::time_point until);

  void forget_key(const std::string& digest);
  void forget_user(std::int64_t user_id);

private:
  struct verified_key {
    std::int64_t user_id;
    clock::time_point until;
  };

  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, verified_key> verified_;
  std::unordered_map<std::string, clock::time_point> refused_;
};

}  // namespace bankd::bank
