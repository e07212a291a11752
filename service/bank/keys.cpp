#include "bank/keys.hpp"

#include "db/rows.hpp"
#include "util/crypto.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement find_user_by_key{"keys.find_user", R"sql(
SELECT id FROM users WHERE api_key_sha256 = $1 AND deleted_at IS NULL
)sql"};

struct key_owner {
  std::int64_t id;
};
BOOST_DESCRIBE_STRUCT(key_owner, (), (id))

constexpr std::size_t max_cached_keys = 100'000;

}  // namespace

std::string generate_api_key() { return "bk_" + util::random_token(32); }

std::string api_key_digest(std::string_view key) { return util::sha256_hex(key); }

net::awaitable<result<std::optional<identity>>> key_verifier::verify(call& c, std::string_view key) {
  if (!operator_key_.empty() && util::constant_time_equal(key, operator_key_))
    co_return identity{operator_user_id, true};

  auto digest = api_key_digest(key);
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = verified_.find(digest); it != verified_.end()) {
    if (it->second.expires > now) co_return identity{it->second.user_id, false};
    verified_.erase(it);
  }
  db::batch lookup;
  lookup.add(find_user_by_key, db::params{}.add(digest));
  auto found = co_await db_.query(c, lookup, "authenticate");
  if (!found) co_return found.error();
  const auto owner = db::read_optional_row<key_owner>(found->results[0]);
  if (!owner) co_return std::optional<identity>{};

  if (verified_.size() >= max_cached_keys) verified_.clear();
  verified_.emplace(std::move(digest), cached{owner->id, now + cache_ttl});
  co_return identity{owner->id, false};
}

void key_verifier::forget(std::int64_t user_id) {
  std::erase_if(verified_, [&](const auto& entry) { return entry.second.user_id == user_id; });
}

}  // namespace bankd::bank
