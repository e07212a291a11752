#pragma once
// Webhook endpoints: where the event feed is pushed to (the delivery itself is
// service/webhooks/). The operator registers an URL and the event types it
// wants, and gets a secret, shown once, that signs every delivery; it can
// rotate the secret (the previous one signs too for a day, so a receiver can
// switch without losing a delivery), re-enable an endpoint that delivery
// disabled, and delete one. Operator only.
//
// One per io_context thread; not thread-safe.

#include "bank/call.hpp"
#include "bank/errors.hpp"
#include "bank/store.hpp"
#include "util/host_allowlist.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bankd::bank {

inline constexpr std::size_t max_webhooks = 100;
inline constexpr std::size_t max_webhook_event_types = 16;
inline constexpr std::size_t max_webhook_url_length = 2048;
inline constexpr std::size_t max_webhook_description_length = 200;

// The event types an endpoint may subscribe to ("*": all of them).
const std::vector<std::string>& webhook_event_types();

struct webhook {
  std::int64_t id = 0;
  std::string url;
  std::string event_types;  // comma-separated
  std::string description;
  std::string status;  // enabled or disabled
  std::string created_at;
  std::int64_t delivered_through = 0;
  std::int64_t consecutive_failures = 0;
  std::optional<std::string> failing_since;
  std::optional<std::string> next_attempt_at;
  std::optional<std::string> last_error;
  std::optional<std::string> disabled_at;
  std::optional<std::string> previous_secret_expires_at;

  std::vector<std::string> events() const;
};
BOOST_DESCRIBE_STRUCT(webhook, (), (id, url, event_types, description, status, created_at, delivered_through,
                                    consecutive_failures, failing_since, next_attempt_at, last_error, disabled_at,
                                    previous_secret_expires_at))

// An endpoint with its new secret: the answer to create and rotate.
struct webhook_with_secret {
  webhook endpoint;
  std::string secret;
};

struct new_webhook {
  std::string url;
  std::vector<std::string> events;
  std::string description;
};

// A signing secret in the Standard Webhooks format: "whsec_" and the
// base64 of 32 random bytes.
std::string generate_webhook_secret();

class webhook_service {
 public:
  // `allowed` decides which URLs may be registered; may be null (none may).
  webhook_service(store& db, const util::host_allowlist* allowed) : db_(db), allowed_(allowed) {}

  boost::asio::awaitable<result<webhook_with_secret>> create(call& c, const new_webhook& w);
  boost::asio::awaitable<result<std::vector<webhook>>> list(call& c);
  boost::asio::awaitable<result<webhook>> get(call& c, std::int64_t id);
  boost::asio::awaitable<result<void>> remove(call& c, std::int64_t id);
  boost::asio::awaitable<result<webhook_with_secret>> rotate_secret(call& c, std::int64_t id);
  boost::asio::awaitable<result<webhook>> enable(call& c, std::int64_t id);

 private:
  std::optional<error> refusal(const new_webhook& w) const;
  boost::asio::awaitable<result<webhook>> change(call& c, std::int64_t id, const db::statement& stmt,
                                                 db::params values, std::string_view operation);

  store& db_;
  const util::host_allowlist* allowed_;
};

}  // namespace bankd::bank
