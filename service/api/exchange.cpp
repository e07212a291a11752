#include "api/exchange.hpp"

#include "api/json_input.hpp"

#include <boost/beast/core/string.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bankd::api {
namespace net = boost::asio;

namespace {

constexpr std::size_t max_key_length = 256;

api_error unauthenticated(std::string message) {
  return {http::status::unauthorized, "unauthenticated", std::move(message)};
}

net::awaitable<outcome<bank::identity>> authenticate(bank::key_verifier& keys, bank::call& c,
                                                     const http::request& req, std::string_view client) {
  const auto header = req[http::beast_http::field::authorization];
  if (header.empty()) co_return unauthenticated("missing Authorization: Bearer <key>");
  const auto key = bearer_key(header);
  if (key.empty()) co_return unauthenticated("malformed Authorization header");
  auto found = co_await keys.verify(c, key, client);
  if (!found) co_return from_bank(found.error());
  if (!*found) co_return unauthenticated("invalid API key");
  co_return **found;
}

}  // namespace

std::string_view bearer_key(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() ||
      !boost::beast::iequals(header.substr(0, scheme.size()), scheme))
    return {};
  auto key = header.substr(scheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.empty() || key.size() > max_key_length || !printable) return {};
  return key;
}

http::endpoint secured(bank::services& bank, access level, handler fn) {
  return [&bank, level, fn = std::move(fn)](http::request_context& ctx) -> net::awaitable<http::response> {
    exchange x{ctx, bank::call{{}, ctx.deadline, 0}, bank};
    auto caller = co_await authenticate(bank.keys, x.call, ctx.req, ctx.log.peer);
    outcome<http::response> res = caller ? outcome<http::response>(http::response{}) : caller.error();
    if (caller && level == access::operator_only && !caller->is_operator)
      res = forbidden("this operation needs the operator key");
    else if (caller) {
      x.call.caller = *caller;
      res = co_await fn(x);
    }
    ctx.log.attempts = x.call.attempts;
    if (!res) {
      if (res.error().note) bank::log_failure(*res.error().note, ctx.log.request_id);
      ctx.log.error = res.error().code;
      co_return to_response(res.error());
    }
    co_return std::move(*res);
  };
}

outcome<std::optional<std::string>> optional_idempotency_key(const http::request& req) {
  constexpr std::size_t max_key = 255;
  const std::string_view key = req["Idempotency-Key"];
  if (key.empty()) return std::optional<std::string>{};
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.size() > max_key || !printable)
    return invalid("Idempotency-Key must be 1..255 printable ASCII characters");
  return std::optional<std::string>{std::string(key)};
}

outcome<std::int64_t> path_id(const exchange& x, std::string_view name) {
  if (auto id = parse_path_id(x.http.params.get(name))) return *id;
  return not_found("no such resource");
}

http::response json_ok(const nlohmann::json& body) { return http::json_response(http::status::ok, body); }

http::response json_created(const nlohmann::json& body, const std::string& location) {
  auto res = http::json_response(http::status::created, body);
  res.set(http::beast_http::field::location, location);
  return res;
}

http::response no_content() { return http::response{http::status::no_content, 11}; }

}  // namespace bankd::api
