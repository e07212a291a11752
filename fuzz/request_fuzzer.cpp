// libFuzzer target: one HTTP/1.1 request as bankd takes it apart before any
// database work. The bytes go through a Beast request parser with bankd's
// limits (headers 8 KiB, body 64 KiB), whole and again in small pieces; the
// target is routed through bankd's router with the same table as the
// service; the path id, the history query string and the JSON body are then
// checked by the same readers the endpoint uses, and every refusal is turned
// into the response bankd would send.
//
// A finding is a sanitizer report, an uncaught exception, or a broken
// invariant (abort with a message on stderr):
//   - a request parsed whole and parsed piecewise gives the same message;
//   - a matched route has a handler, and {id} captures a non-empty segment;
//   - accepted ids, amounts, texts and currencies are within their limits;
//   - every api_error becomes a response with its status (no exception).

#include "fuzz_checks.hpp"

#include "api/json_input.hpp"
#include "http/router.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace beast_http = boost::beast::http;
namespace api = bankd::api;
using bankd::fuzz::check;
using bankd::fuzz::check_refusal;
using beast_http::verb;

enum class endpoint {
  healthz,
  readyz,
  metrics,
  create_user,
  get_user,
  patch_user,
  delete_user,
  open_account,
  get_account,
  close_account,
  user_accounts,
  history,
  create_transfer,
  get_transfer,
  deposit,
  audit,
};

// The service's table (app/health.cpp, then bank/*_routes.cpp, in order).
const bankd::http::router<endpoint>& routes() {
  static const auto table = [] {
    bankd::http::router<endpoint> r;
    r.add(verb::get, "/healthz", endpoint::healthz);
    r.add(verb::get, "/readyz", endpoint::readyz);
    r.add(verb::get, "/metrics", endpoint::metrics);
    r.add(verb::post, "/users", endpoint::create_user);
    r.add(verb::get, "/users/{id}", endpoint::get_user);
    r.add(verb::patch, "/users/{id}", endpoint::patch_user);
    r.add(verb::delete_, "/users/{id}", endpoint::delete_user);
    r.add(verb::post, "/accounts", endpoint::open_account);
    r.add(verb::get, "/accounts/{id}", endpoint::get_account);
    r.add(verb::delete_, "/accounts/{id}", endpoint::close_account);
    r.add(verb::get, "/users/{id}/accounts", endpoint::user_accounts);
    r.add(verb::get, "/accounts/{id}/transfers", endpoint::history);
    r.add(verb::post, "/transfers", endpoint::create_transfer);
    r.add(verb::get, "/transfers/{id}", endpoint::get_transfer);
    r.add(verb::post, "/accounts/{id}/deposits", endpoint::deposit);
    r.add(verb::post, "/audit/balances", endpoint::audit);
    return r;
  }();
  return table;
}

using request = beast_http::request<beast_http::string_body>;
using parser = beast_http::request_parser<beast_http::string_body>;

// Feeds `bytes` to a fresh parser with bankd's limits, `piece` bytes at a
// time (0: all at once, as far as the parser takes them). Returns the
// request, or nothing when the bytes are not one complete valid request.
std::optional<request> parse(std::string_view bytes, std::size_t piece) {
  parser p;
  p.header_limit(8 * 1024);
  p.body_limit(64 * 1024);
  p.eager(true);
  std::string pending;  // what the parser has not consumed yet, like session's buffer
  std::size_t offered = 0;
  while (!p.is_done()) {
    if (offered < bytes.size()) {
      const auto take =
          piece == 0 ? bytes.size() - offered : std::min(piece, bytes.size() - offered);
      pending.append(bytes.substr(offered, take));
      offered += take;
    } else if (pending.empty()) {
      return std::nullopt;  // incomplete
    }
    boost::system::error_code ec;
    const auto used = p.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    pending.erase(0, used);
    if (ec == beast_http::error::need_more || (!ec && used == 0)) {
      if (offered == bytes.size()) return std::nullopt;
      continue;
    }
    if (ec) return std::nullopt;
  }
  return p.release();
}

bool same_message(const request& a, const request& b) {
  if (a.method_string() != b.method_string() || a.target() != b.target() ||
      a.version() != b.version() || a.body() != b.body())
    return false;
  auto i = a.begin();
  auto j = b.begin();
  for (; i != a.end() && j != b.end(); ++i, ++j)
    if (i->name_string() != j->name_string() || i->value() != j->value()) return false;
  return i == a.end() && j == b.end();
}

// What list_history does with the query string (account_routes.cpp).
void check_history_query(std::string_view query) {
  if (query.empty()) return;
  const std::string text(query);  // parse_query needs a NUL-terminated buffer in Boost 1.81
  if (!boost::urls::parse_query(text)) return;
  for (const auto& param : boost::urls::params_view(text)) {
    const auto value = api::parse_path_id(param.value);
    if (value) bankd::fuzz::check_id(*value, param.value);
  }
}

void check_body(endpoint e, const request& req) {
  auto body = api::parse_object(req);
  if (!body) return check_refusal(body.error());
  const auto& b = *body;
  switch (e) {
    case endpoint::create_user:
    case endpoint::patch_user:
      if (auto ok = api::only_fields(b, {"name", "email"}); !ok) return check_refusal(ok.error());
      bankd::fuzz::check_text(b, "name", 200);
      bankd::fuzz::check_text(b, "email", 254);
      return;
    case endpoint::open_account:
      if (auto ok = api::only_fields(b, {"currency", "user_id"}); !ok)
        return check_refusal(ok.error());
      bankd::fuzz::check_currency(b, "currency");
      bankd::fuzz::check_ids(b, "user_id");
      return;
    case endpoint::create_transfer:
      if (auto ok = api::only_fields(
              b, {"from_account_id", "to_account_id", "amount", "currency", "reference"});
          !ok)
        return check_refusal(ok.error());
      bankd::fuzz::check_ids(b, "from_account_id");
      bankd::fuzz::check_ids(b, "to_account_id");
      bankd::fuzz::check_amount(b, "amount");
      bankd::fuzz::check_currency(b, "currency");
      bankd::fuzz::check_text(b, "reference", 140);
      return;
    case endpoint::deposit:
      if (auto ok = api::only_fields(b, {"amount", "currency", "reference"}); !ok)
        return check_refusal(ok.error());
      bankd::fuzz::check_amount(b, "amount");
      bankd::fuzz::check_currency(b, "currency");
      bankd::fuzz::check_text(b, "reference", 140);
      return;
    case endpoint::audit:
      if (auto ok = api::only_fields(b, {"account_ids"}); !ok) return check_refusal(ok.error());
      return;
    default:
      return;
  }
}

void check_request(const request& req) {
  // As app/api.cpp splits the target.
  const std::string_view target = req.target();
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  const auto found = routes().find(req.method(), path);
  if (found.handler == nullptr) {
    check(found.allowed.empty() || !found.route.empty(), "405 without a route pattern");
    return;
  }
  check(!found.route.empty(), "a handler without a route pattern");
  const auto e = *found.handler;
  if (found.route.find("{id}") != std::string_view::npos) {
    const auto segment = found.params.get("id");
    check(!segment.empty(), "{id} captured an empty segment");
    if (const auto id = api::parse_path_id(segment)) bankd::fuzz::check_id(*id, segment);
  }
  if (e == endpoint::history) check_history_query(query);
  if (req.method() == verb::post || req.method() == verb::patch) check_body(e, req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto whole = parse(bytes, 0);
  // Below the header limit, how the bytes arrive must not change the
  // outcome. (Above it Beast's limit depends on what the first read held.)
  if (size < 8 * 1024) {
    const auto piecewise = parse(bytes, 1 + size % 7);
    check(whole.has_value() == piecewise.has_value(), "whole and piecewise parses disagree");
    if (whole) check(same_message(*whole, *piecewise), "whole and piecewise parses differ");
  }
  if (whole) check_request(*whole);
  return 0;
}
