#pragma once
// Learns the outcome of every ambiguous transfer request by replaying it with
// the same body, key and caller (docs/api.md, Idempotency):
//   201 (replayed or not)  it is in the ledger now, exactly once;
//   4xx                    it is not: refusals leave no ledger row;
//   5xx, timeout, ...      still unknown: retried with backoff, and marked
//                          unresolved when no definite answer comes.

#include "loadtest/http_connection.hpp"
#include "loadtest/run_record.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace bankd::loadtest {

struct resolve_summary {
  std::uint64_t committed = 0;
  std::uint64_t not_committed = 0;
  std::uint64_t unresolved = 0;
  std::vector<violation> violations;  // answers that contradict the request
};

boost::asio::awaitable<resolve_summary> resolve_ambiguous(
    const std::vector<http_connection*>& conns, run_record& record,
    std::chrono::milliseconds timeout);

}  // namespace bankd::loadtest
