#pragma once
// What bankd remembers of API keys between database lookups: keys that
// verified (digest -> user, until a deadline) and keys that matched nobody
// (digest -> until). One instance serves every worker thread, so a busy key
// costs one lookup per process per TTL rather than one per thread, and
// forgetting a key or a user (revocation, deletion) takes effect on every
// thread of this process at once. Other instances learn within the TTL.
//
// Thread-safe (one mutex, held for a hash lookup). At most `max_entries`
// keys of each kind are kept; when full, that kind is cleared (so a flood of
// unknown keys never pushes out the verified ones).

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

  // What is remembered of a digest: unknown (look it up), a user, or nobody.
  struct known {
    bool remembered = false;
    std::optional<std::int64_t> user_id;  // remembered and empty: matches nobody
  };

  explicit key_cache(std::size_t max_entries = 100'000) : max_entries_(max_entries) {}

  // Entries past their deadline are dropped and read as unknown.
  known find(const std::string& digest, clock::time_point now);

  void remember_verified(const std::string& digest, std::int64_t user_id, clock::time_point until);
  void remember_refused(const std::string& digest, clock::time_point until);

  void forget_key(const std::string& digest);
  void forget_user(std::int64_t user_id);

private:
  struct entry {
    std::int64_t user_id = 0;  // verified_ only
    clock::time_point until;
  };
  using map = std::unordered_map<std::string, entry>;

  // The live entry for `digest` in `m`, erasing an expired one.
  static const entry* live(map& m, const std::string& digest, clock::time_point now);
  void put(map& m, const std::string& digest, entry e);

  std::size_t max_entries_;
  std::mutex mutex_;
  map verified_;
  map refused_;
};

}  // namespace bankd::bank
