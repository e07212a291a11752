#include "bank/context.hpp"

#include "bank/json_input.hpp"

#include <nlohmann/json.hpp>

namespace bankd::bank {
namespace net = boost::asio;

net::awaitable<outcome<db::batch_result>> context::query(const db::batch& b, db::tx_frame frame,
                                                         std::string_view operation) {
  auto leased = co_await pool_.acquire();
  if (!leased) co_return from_db_error(leased.error(), operation);
  auto done = co_await (*leased)->execute(b, frame, leased->query_deadline());
  if (!done) co_return from_db_error(done.error(), operation);
  co_return std::move(*done);
}

net::awaitable<db::result<db::batch_result>> context::query_raw(const db::batch& b, db::tx_frame frame) {
  auto leased = co_await pool_.acquire();
  if (!leased) co_return leased.error();
  co_return co_await (*leased)->execute(b, frame, leased->query_deadline());
}

http::endpoint secured(context& bank, access level, handler fn) {
  return [&bank, level, fn = std::move(fn)](http::request_context& ctx) -> net::awaitable<http::response> {
    auto caller = co_await bank.auth().authenticate(ctx.req);
    if (!caller) {
      ctx.log.error = caller.error().code;
      co_return to_response(caller.error());
    }
    if (level == access::operator_only && !caller->is_operator) {
      ctx.log.error = "forbidden";
      co_return to_response(forbidden("this operation needs the operator key"));
    }
    call c{ctx, *caller, bank};
    auto res = co_await fn(c);
    if (!res) {
      ctx.log.error = res.error().code;
      co_return to_response(res.error());
    }
    co_return std::move(*res);
  };
}

outcome<std::int64_t> path_id(const call& c, std::string_view name) {
  if (auto id = parse_path_id(c.http.params.get(name))) return *id;
  return not_found("no such resource");
}

http::response json_created(const nlohmann::json& body, const std::string& location) {
  auto res = http::json_response(http::status::created, body);
  res.set(http::beast_http::field::location, location);
  return res;
}

}  // namespace bankd::bank
