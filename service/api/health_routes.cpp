#include "api/health_routes.hpp"

#include "db/transaction.hpp"

#include <nlohmann/json.hpp>

namespace bankd::api {
namespace net = boost::asio;
using http::beast_http::verb;

namespace {

constexpr db::statement readiness_probe{"health.ready", "SELECT 1"};
constexpr auto readiness_deadline = std::chrono::seconds(1);

net::awaitable<http::response> ready(db::connection_pool& pool) {
  db::batch probe;
  probe.add(readiness_probe);
  auto answered = co_await db::query(pool, probe, {}, db::clock::now() + readiness_deadline);
  // Every connection busy means the database answers: a saturated instance
  // must not drop out of its load balancer, that would only move the load.
  if (!answered && answered.error().code == db::errc::pool_exhausted)
    co_return http::json_response(http::status::ok, {{"status", "ready"}, {"pool", "busy"}});
  if (!answered)
    co_return http::unavailable_response("service_unavailable", answered.error().code.message());
  co_return http::json_response(http::status::ok, {{"status", "ready"}});
}

}  // namespace

void add_health_routes(http::router<http::endpoint>& routes, db::connection_pool& pool,
                       const metrics::registry& stats) {
  routes.add(verb::get, "/healthz", [](http::request_context&) -> net::awaitable<http::response> {
    co_return http::json_response(http::status::ok, {{"status", "ok"}});
  });
  routes.add(verb::get, "/readyz", [&pool](http::request_context&) { return ready(pool); });
  routes.add(verb::get, "/metrics", [&stats](http::request_context&) -> net::awaitable<http::response> {
    http::response res{http::status::ok, 11};
    res.set(http::beast_http::field::content_type, "text/plain; version=0.0.4");
    res.body() = stats.render();
    res.prepare_payload();
    co_return res;
  });
}

}  // namespace bankd::api
