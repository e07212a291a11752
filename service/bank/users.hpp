#pragma once
// Users: created by the operator with an API key shown once, read and
// renamed by themselves, deleted only once their accounts are empty.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
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
  std::string api_key;  // shown once; only its hash is stored
};

struct user_changes {
  std::optional<std::string> name;
  std::optional<std::string> email;
};

class user_service {
public:
  user_service(store& db, key_verifier& keys) : db_(db), keys_(keys) {}

  // Operator only (the caller checks): email_taken for a live user's email, in any case.
  boost::asio::awaitable<result<new_user>> create(call& c, const std::string& name,
                                                  const std::string& email);
  boost::asio::awaitable<result<user>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<user>> update(call& c, std::int64_t id, const user_changes& changes);
  // Closes the user's (empty) accounts and revokes its key.
  boost::asio::awaitable<result<void>> remove(call& c, std::int64_t id);

private:
  store& db_;
  key_verifier& keys_;
};

}  // namespace bankd::bank
