#include "bank/key_cache.hpp"

namespace bankd::bank {

std::optional<std::int64_t> key_cache::verified(const std::string& digest, clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = verified_.find(digest);
  if (it == verified_.end()) return std::nullopt;
  if (it->second.until > now) return it->second.user_id;
  verified_.erase(it);
  return std::nullopt;
}

bool key_cache::refused(const std::string& digest, clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = refused_.find(digest);
  if (it == refused_.end()) return false;
  if (it->second > now) return true;
  refused_.erase(it);
  return false;
}

void key_cache::remember_verified(const std::string& digest, std::int64_t user_id, clock::time_point until) {
  std::lock_guard lock(mutex_);
  if (verified_.size() >= max_entries_) verified_.clear();
  verified_.insert_or_assign(digest, verified_key{user_id, until});
}

void key_cache::remember_refused(const std::string& digest, clock::time_point until) {
  std::lock_guard lock(mutex_);
  if (refused_.size() >= max_entries_) refused_.clear();
  refused_.insert_or_assign(digest, until);
}

void key_cache::forget_key(const std::string& digest) {
  std::lock_guard lock(mutex_);
  verified_.erase(digest);
}

void key_cache::forget_user(std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  std::erase_if(verified_, [&](const auto& entry) { return entry.second.user_id == user_id; });
}

}  // namespace bankd::bank
