#pragma once
// Waiting in tests for what background work does (a sweeper, webhook
// delivery, a key revoked elsewhere), and reading a metric to see it.

#include "support/http_client.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace bankd::test {

// Polls `done` until it holds or `limit` passes; whether it held.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// The value of one series ("name" or "name{label=\"v\"}") on GET /metrics;
// -1 when it is not there.
inline double metric(http_client& client, const std::string& series) {
  const auto body = client.get("/metrics").body;
  const auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 2));
}

}  // namespace bankd::test
