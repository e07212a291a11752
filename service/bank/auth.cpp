#include "bank/auth.hpp"

#include "util/crypto.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement find_user_by_key{
    "auth.find_user_by_key",
    "SELECT id FROM users WHERE api_key_sha256 = $1 AND deleted_at IS NULL"};

constexpr std::size_t max_key_length = 256;
constexpr std::size_t max_cached_keys = 100'000;

api_error unauthenticated(std::string message) {
  return {http::status::unauthorized, "unauthenticated", std::move(message)};
}

// The key of a well-formed "Bearer <key>" header, or empty.
std::string_view bearer_key(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() ||
      !boost::beast::iequals(header.substr(0, scheme.size()), scheme))
    return {};
  auto key = header.substr(scheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return c > 0x20 && c < 0x7f;
  });
  if (key.empty() || key.size() > max_key_length || !printable) return {};
  return key;
}

}  // namespace

std::string generate_api_key() { return "bk_" + util::random_token(32); }

std::string api_key_digest(std::string_view key) { return util::sha256_hex(key); }

net::awaitable<outcome<identity>> authenticator::authenticate(const http::request& req) {
  const auto header = req[http::beast_http::field::authorization];
  if (header.empty()) co_return unauthenticated("missing Authorization: Bearer <key>");
  const auto key = bearer_key(header);
  if (key.empty()) co_return unauthenticated("malformed Authorization header");
  if (!operator_key_.empty() && util::constant_time_equal(key, operator_key_))
    co_return identity{operator_user_id, true};

  auto digest = api_key_digest(key);
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = verified_.find(digest); it != verified_.end()) {
    if (it->second.expires > now) co_return identity{it->second.user_id, false};
    verified_.erase(it);
  }

  auto leased = co_await pool_.acquire();
  if (!leased) co_return from_db_error(leased.error(), "authenticate");
  db::batch lookup;
  lookup.add(find_user_by_key, db::params{}.add(digest));
  auto found = co_await (*leased)->execute(lookup, {}, leased->query_deadline());
  if (!found) co_return from_db_error(found.error(), "authenticate");
  const auto& rows = found->results[0];
  if (rows.rows() != 1) co_return unauthenticated("invalid API key");

  const auto user_id = rows.int64(0, 0);
  if (verified_.size() >= max_cached_keys) verified_.clear();
  verified_.emplace(std::move(digest), cached{user_id, now + cache_ttl});
  co_return identity{user_id, false};
}

void authenticator::forget(std::int64_t user_id) {
  std::erase_if(verified_, [&](const auto& entry) { return entry.second.user_id == user_id; });
}

}  // namespace bankd::bank
