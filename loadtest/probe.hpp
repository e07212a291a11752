#pragma once
// Blocking one-off requests for the chaos thread and for starting bankd: each
// runs on an io_context of its own, on the calling thread, over a fresh
// connection, so it neither shares nor disturbs the load's connections.

#include "loadtest/http_connection.hpp"
#include "loadtest/options.hpp"

#include <chrono>
#include <string>

namespace bankd::loadtest {

// GET `target` with `bearer` (empty: no Authorization) within `timeout`.
exec_result probe(const endpoint& where, const std::string& target, const std::string& bearer,
                  std::chrono::milliseconds timeout);

// Seconds until GET /readyz answers 200, polling; < 0 if not within `limit`.
double seconds_until_ready(const endpoint& where, std::chrono::milliseconds limit);

}  // namespace bankd::loadtest
