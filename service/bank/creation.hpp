#pragma once
// Idempotency-Key for the requests that create (POST /users, POST /accounts):
// the key is written, with the SHA-256 of what was asked and the id of what
// was made, in the same SERIALIZABLE transaction that makes it
// (creation_requests, migration 006). A request whose key is taken is then
// either the same request, replayed (the earlier result is returned), or a
// different one (idempotency_key_reused).

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::bank {

// The key a creating request came with; empty `key`: none (no idempotency).
struct creation_key {
  std::optional<std::string> key;
  std::string request_sha256;  // of the fields that define the request
};

// `fields` joined with a separator no field can hold (NUL), hashed.
creation_key make_creation_key(std::optional<std::string> key, std::initializer_list<std::string_view> fields);

// What an earlier request with (initiator, operation, key) made: its id, or
// nullopt when there was none; idempotency_key_reused when it asked for
// something else.
boost::asio::awaitable<result<std::optional<std::int64_t>>> find_creation(call& c, store& db,
                                                                           std::string_view operation,
                                                                           const creation_key& key);

}  // namespace bankd::bank
