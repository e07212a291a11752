#pragma once
// API keys: who holds a key (key_verifier, on every request) and a user's
// named keys (key_service: create, list, revoke).
//
// A user's key is "bk_" + 43 random base64url characters, shown once when it
// is made and stored only as its SHA-256. Operator keys come from the
// configuration (at most two, for rotation) and are compared in constant time.
//
// Verified keys are remembered for `cache_ttl` (1 s) in a key_cache that all
// worker threads share, so a busy client costs one lookup per second, and a
// revoked key, or the key of a deleted user, is refused at once on this
// instance and within a second on every other. Keys that matched nobody are
// remembered for `refusal_ttl`, and a client address that keeps presenting
// unknown keys is told to slow down (rate_limited) before its lookups reach
// the database (auth_limiter).
//
// key_verifier and key_service: one per io_context thread; not thread-safe.

#include "bank/auth_limiter.hpp"
#include "bank/key_cache.hpp"
#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::bank {

inline constexpr std::size_t max_keys_per_user = 10;  // not revoked

std::string generate_api_key();
std::string api_key_digest(std::string_view key);

class key_verifier {
public:
  static constexpr std::chrono::seconds cache_ttl{1};
  static constexpr std::chrono::seconds refusal_ttl{2};

  // `limiter` may be null (no rate limit). Both are shared by all threads.
  key_verifier(store& db, std::vector<std::string> operator_keys, auth_limiter* limiter, key_cache& cache)
      : db_(db), operator_keys_(std::move(operator_keys)), limiter_(limiter), cache_(cache) {}

  // The identity holding `key`, or nullopt when no one does; an error when
  // the database could not tell, or rate_limited when `client` (its address)
  // made too many failed attempts. `c` gives the deadline.
  boost::asio::awaitable<result<std::optional<identity>>> verify(call& c, std::string_view key,
                                                                 std::string_view client);
  // Drops a user's keys, or one key by digest, from the shared cache.
  void forget(std::int64_t user_id) { cache_.forget_user(user_id); }
  void forget_key(const std::string& digest) { cache_.forget_key(digest); }

private:
  boost::asio::awaitable<void> touch(call& c, std::int64_t key_id);

  store& db_;
  std::vector<std::string> operator_keys_;
  auth_limiter* limiter_;
  key_cache& cache_;
};

struct api_key {
  std::int64_t id = 0;
  std::string name;
  std::string created_at;
  std::optional<std::string> last_used_at;  // accurate to a minute
};
BOOST_DESCRIBE_STRUCT(api_key, (), (id, name, created_at, last_used_at))

struct new_api_key {
  api_key key;
  std::string secret;  // the bearer key itself, shown once
};

class key_service {
public:
  key_service(store& db, key_verifier& verifier) : db_(db), verifier_(verifier) {}

  // The user itself or the operator; limit_reached beyond max_keys_per_user.
  boost::asio::awaitable<result<new_api_key>> create(call& c, std::int64_t user_id, const std::string& name);
  boost::asio::awaitable<result<std::vector<api_key>>> list(call& c, std::int64_t user_id);
  // Revoking a revoked key succeeds again; the key stops working at once on
  // this instance and within key_verifier::cache_ttl on every other.
  boost::asio::awaitable<result<void>> revoke(call& c, std::int64_t user_id, std::int64_t key_id);

private:
  store& db_;
  key_verifier& verifier_;
};

}  // namespace bankd::bank
