#pragma once
// Who is calling the domain, until when, and what the call has cost so far.
//
// Every operation of service/bank takes a `call&`: the caller's identity
// decides what it may do, the deadline bounds every wait of the operation
// (acquiring a connection, each query, retry backoffs), and the operation adds
// the transaction attempts it used, for the request log. One per request,
// owned by whoever handles the request.

#include "db/connection.hpp"

#include <cstdint>

namespace bankd::bank {

// Operator actions are recorded as initiated by the funding user (id 0).
inline constexpr std::int64_t operator_user_id = 0;

struct identity {
  std::int64_t user_id = 0;
  bool is_operator = false;

  bool may_act_for(std::int64_t user) const noexcept { return is_operator || user_id == user; }
};

struct call {
  identity caller;
  db::clock::time_point deadline = db::clock::time_point::max();
  int attempts = 0;  // transaction attempts used, 0 when none ran
};

}  // namespace bankd::bank
