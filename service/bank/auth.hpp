#pragma once
// Who is calling: `Authorization: Bearer <key>`.
//
// A user's key is "bk_" + 43 random base64url characters, shown once at user
// creation and stored only as its SHA-256. The operator key comes from the
// configuration and is compared in constant time. A user may read only its own
// user, accounts and transfers and debit only its own accounts; the operator
// may do everything.
//
// Verified keys are remembered per thread for `cache_ttl`, so a busy client
// costs one lookup per thread per TTL, not one per request. A deleted user's
// key therefore keeps authenticating on other threads or instances for at most
// the TTL; it can do nothing there, because a user can only be deleted once
// its accounts are empty, and deleting closes them.

#include "bank/api_error.hpp"
#include "db/pool.hpp"
#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace bankd::bank {

// Operator actions are recorded as initiated by the funding user (id 0).
inline constexpr std::int64_t operator_user_id = 0;

struct identity {
  std::int64_t user_id = 0;
  bool is_operator = false;

  bool may_act_for(std::int64_t user) const noexcept { return is_operator || user_id == user; }
};

std::string generate_api_key();
std::string api_key_digest(std::string_view key);

// One per io_context thread; not thread-safe.
class authenticator {
public:
  static constexpr std::chrono::seconds cache_ttl{10};

  authenticator(db::connection_pool& pool, std::string operator_key)
      : pool_(pool), operator_key_(std::move(operator_key)) {}

  // 401 without a valid key.
  boost::asio::awaitable<outcome<identity>> authenticate(const http::request& req);
  // Drops a user from this thread's cache (after deleting it).
  void forget(std::int64_t user_id);

private:
  struct cached {
    std::int64_t user_id;
    std::chrono::steady_clock::time_point expires;
  };

  db::connection_pool& pool_;
  std::string operator_key_;
  std::unordered_map<std::string, cached> verified_;  // key digest -> user
};

}  // namespace bankd::bank
