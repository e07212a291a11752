#include "bank/auth_limiter.hpp"

#include <algorithm>

namespace bankd::bank {

auth_limiter::bucket& auth_limiter::refill(std::string_view client, clock::time_point now) {
  auto it = clients_.find(std::string(client));
  if (it == clients_.end()) {
    if (clients_.size() >= max_clients_) {
      // Full buckets are those nobody needs to remember.
      std::erase_if(clients_, [&](const auto& entry) {
        const double seconds = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + seconds * per_second_ >= burst_;
      });
      if (clients_.size() >= max_clients_) clients_.clear();
    }
    it = clients_.emplace(std::string(client), bucket{static_cast<double>(burst_), now}).first;
  }
  auto& b = it->second;
  const double seconds = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min<double>(burst_, b.tokens + seconds * per_second_);
  b.updated = now;
  return b;
}

bool auth_limiter::may_try(std::string_view client, clock::time_point now) {
  std::lock_guard lock(mutex_);
  return refill(client, now).tokens >= 1.0;
}

void auth_limiter::failed(std::string_view client, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& b = refill(client, now);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

}  // namespace bankd::bank
