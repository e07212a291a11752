#include "bank/key_cache.hpp"

namespace bankd::bank {

const key_cache::entry* key_cache::live(map& m, const std::string& digest, clock::time_point now) {
  const auto it = m.find(digest);
  if (it == m.end()) return nullptr;
  if (it->second.until > now) return &it->second;
  m.erase(it);
  return nullptr;
}

void key_cache::put(map& m, const std::string& digest, entry e) {
  std::lock_guard lock(mutex_);
  if (m.size() >= max_entries_) m.clear();
  m.insert_or_assign(digest, e);
}

key_cache::known key_cache::find(const std::string& digest, clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (const auto* e = live(verified_, digest, now)) return {true, e->user_id};
  if (live(refused_, digest, now) != nullptr) return {true, std::nullopt};
  return {};
}

void key_cache::remember_verified(const std::string& digest, std::int64_t user_id, clock::time_point until) {
  put(verified_, digest, {user_id, until});
}

void key_cache::remember_refused(const std::string& digest, clock::time_point until) {
  put(refused_, digest, {0, until});
}

void key_cache::forget_key(const std::string& digest) {
  std::lock_guard lock(mutex_);
  verified_.erase(digest);
}

void key_cache::forget_user(std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  std::erase_if(verified_, [&](const auto& kv) { return kv.second.user_id == user_id; });
}

}  // namespace bankd::bank
