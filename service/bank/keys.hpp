#pragma once
// Who holds a key. A user's key is "bk_" + 43 random base64url characters,
// shown once at user creation and stored only as its SHA-256. The operator
// key comes from the configuration and is compared in constant time.
//
// Verified keys are remembered per thread for `cache_ttl`, so a busy client
// costs one lookup per thread per TTL, not one per request. A deleted user's
// key therefore keeps authenticating on other threads or instances for at most
// the TTL; it can do nothing there, because a user can only be deleted once
// its accounts are empty, and deleting closes them.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bankd::bank {

std::string generate_api_key();
std::string api_key_digest(std::string_view key);

class key_verifier {
public:
  static constexpr std::chrono::seconds cache_ttl{10};

  key_verifier(store& db, std::string operator_key) : db_(db), operator_key_(std::move(operator_key)) {}

  // The identity holding `key`, or nullopt when no one does; an error only
  // when the database could not tell. `c` gives the deadline.
  boost::asio::awaitable<result<std::optional<identity>>> verify(call& c, std::string_view key);
  // Drops a user from this thread's cache (after deleting it).
  void forget(std::int64_t user_id);

private:
  struct cached {
    std::int64_t user_id;
    std::chrono::steady_clock::time_point expires;
  };

  store& db_;
  std::string operator_key_;
  std::unordered_map<std::string, cached> verified_;  // key digest -> user
};

}  // namespace bankd::bank
