#pragma once
// One authenticated request on its way through a bank endpoint, and the
// wrapper that authenticates every call once, before its handler runs.

#include "api/api_error.hpp"
#include "bank/call.hpp"
#include "bank/services.hpp"
#include "http/endpoint.hpp"

#include <nlohmann/json_fwd.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::api {

struct exchange {
  http::request_context& http;
  bank::call call;  // the caller, the request's deadline, the attempts it used
  bank::services& bank;
};

using handler = std::function<boost::asio::awaitable<outcome<http::response>>(exchange&)>;

enum class access { any_key, operator_only };

// Authenticates from `Authorization: Bearer <key>` (401), checks the access
// level (403), runs the handler, turns an api_error into the JSON error
// response and fills the request log.
http::endpoint secured(bank::services& bank, access level, handler fn);

// The key of a well-formed "Bearer <key>" header, or empty.
std::string_view bearer_key(std::string_view header);

// The Idempotency-Key header of a request that may have one: none, or 1..255
// printable ASCII characters (else 422).
outcome<std::optional<std::string>> optional_idempotency_key(const http::request& req);

// The {id} path parameter as a positive integer; 404 when it is not one.
outcome<std::int64_t> path_id(const exchange& x, std::string_view name = "id");

// A domain result as a response, or its error as an api_error.
template <class T, class Render>
outcome<http::response> respond(bank::result<T>&& r, Render render) {
  if (!r) return from_bank(r.error());
  return render(*r);
}

// The same for the account in the path: another user's account answers as
// one that does not exist (enumeration: docs/security.md).
template <class T, class Render>
outcome<http::response> respond_hiding(bank::result<T>&& r, std::int64_t account, Render render) {
  if (!r) return hiding_others(r.error(), "account " + std::to_string(account) + " does not exist");
  return render(*r);
}

http::response json_ok(const nlohmann::json& body);
// 201 with `body` and `Location: location` (the new resource's path).
http::response json_created(const nlohmann::json& body, const std::string& location);
http::response no_content();

}  // namespace bankd::api
