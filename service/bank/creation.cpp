#include "bank/creation.hpp"

#include "db/rows.hpp"
#include "util/crypto.hpp"

namespace bankd::bank {
namespace net = boost::asio;

namespace {

constexpr db::statement find_request{"creation.find", R"sql(
SELECT request_sha256, resource_id FROM creation_requests
 WHERE initiated_by = $1 AND operation = $2 AND idempotency_key = $3
)sql"};

struct request_row {
  std::string request_sha256;
  std::int64_t resource_id;
};
BOOST_DESCRIBE_STRUCT(request_row, (), (request_sha256, resource_id))

}  // namespace

creation_key make_creation_key(std::optional<std::string> key, std::initializer_list<std::string_view> fields) {
  std::string joined;
  for (const auto field : fields) {
    joined.append(field);
    joined.push_back('\0');
  }
  return {std::move(key), util::sha256_hex(joined)};
}

net::awaitable<result<std::optional<std::int64_t>>> find_creation(call& c, store& db, std::string_view operation,
                                                                   const creation_key& key) {
  if (!key.key) co_return std::optional<std::int64_t>{};
  db::batch b;
  b.add(find_request, db::params{}.add(c.caller.user_id).add(operation).add(*key.key));
  auto done = co_await db.query(c, b, "creation.find");
  if (!done) co_return done.error();
  const auto earlier = db::read_optional_row<request_row>(done->results[0]);
  if (!earlier) co_return std::optional<std::int64_t>{};
  if (earlier->request_sha256 != key.request_sha256)
    co_return error{errc::idempotency_key_reused, "this Idempotency-Key was used for a different request"};
  co_return std::optional<std::int64_t>{earlier->resource_id};
}

}  // namespace bankd::bank
