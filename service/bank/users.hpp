#pragma once
// Users: created by the operator, read and changed by themselves (or the
// operator), deleted only when their accounts are empty; frozen and unfrozen
// by the operator.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/creation.hpp"
#include "bank/errors.hpp"
#include "bank/keys.hpp"
#include "bank/records.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace bankd::bank {

struct new_user {
  bank::user user;
  std::optional<std::string> api_key;  // its first key ("default"), shown once: none on a replay
  bool replayed = false;
};

struct user_changes {
  std::optional<std::string> name;
  std::optional<std::string> email;
};

class user_service {
public:
  user_service(store& db, key_verifier& keys) : db_(db), keys_(keys) {}

  // Operator only (the caller checks): email_taken for a live user's email, in
  // any case. With an Idempotency-Key, a replay returns the user made the
  // first time, without its key.
  boost::asio::awaitable<result<new_user>> create(call& c, const std::string& name, const std::string& email,
                                                  std::optional<std::string> idempotency_key = {});
  boost::asio::awaitable<result<user>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<user>> update(call& c, std::int64_t id, const user_changes& changes);
  // Closes the user's (empty) accounts and revokes its keys.
  boost::asio::awaitable<result<void>> remove(call& c, std::int64_t id);
  // Operator only. Freezing a frozen user keeps the time it was first frozen.
  boost::asio::awaitable<result<user>> set_frozen(call& c, std::int64_t id, bool frozen);

private:
  boost::asio::awaitable<result<new_user>> replay(call& c, const creation_key& key, const db::error& failure);

  store& db_;
  key_verifier& keys_;
};

}  // namespace bankd::bank
