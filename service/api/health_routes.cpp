#include "api/health_routes.hpp"

#include "db/transaction.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace bankd::api {
namespace net = boost::asio;
using http::beast_http::verb;

namespace {

constexpr db::statement readiness_probe{"health.ready", "SELECT 1"};
constexpr auto readiness_deadline = std::chrono::seconds(1);
// /readyz is unauthenticated: however often it is asked, each worker sends at
// most one probe per this interval and answers the rest from the last result.
constexpr auto readiness_reuse = std::chrono::seconds(1);

struct readiness {
  enum class state { ready, busy, unavailable };
  state last = state::unavailable;
  std::string why = "not checked yet";
  db::clock::time_point checked{};  // never
  bool probing = false;
};

http::response answer(const readiness& r) {
  // Every connection busy means the database answers: a saturated instance
  // must not drop out of its load balancer, that would only move the load.
  if (r.last == readiness::state::busy)
    return http::json_response(http::status::ok, {{"status", "ready"}, {"pool", "busy"}});
  if (r.last == readiness::state::unavailable) return http::unavailable_response("service_unavailable", r.why);
  return http::json_response(http::status::ok, {{"status", "ready"}});
}

net::awaitable<http::response> ready(db::connection_pool& pool, readiness& r) {
  const auto now = db::clock::now();
  // While a probe runs, the others answer from the previous result.
  if (r.probing || now - r.checked < readiness_reuse) co_return answer(r);
  r.probing = true;
  db::batch probe;
  probe.add(readiness_probe);
  auto answered = co_await db::query(pool, probe, {}, now + readiness_deadline);
  r.probing = false;
  r.checked = db::clock::now();
  if (answered) r.last = readiness::state::ready;
  else if (answered.error().code == db::errc::pool_exhausted) r.last = readiness::state::busy;
  else {
    r.last = readiness::state::unavailable;
    r.why = answered.error().code.message();
  }
  co_return answer(r);
}

}  // namespace

void add_health_routes(http::router<http::endpoint>& routes, db::connection_pool& pool,
                       const metrics::registry& stats) {
  routes.add(verb::get, "/healthz", [](http::request_context&) -> net::awaitable<http::response> {
    co_return http::json_response(http::status::ok, {{"status", "ok"}});
  });
  routes.add(verb::get, "/readyz", [&pool, state = std::make_shared<readiness>()](http::request_context&) {
    return ready(pool, *state);
  });
  routes.add(verb::get, "/metrics", [&stats](http::request_context&) -> net::awaitable<http::response> {
    http::response res{http::status::ok, 11};
    res.set(http::beast_http::field::content_type, "text/plain; version=0.0.4");
    res.body() = stats.render();
    res.prepare_payload();
    co_return res;
  });
}

}  // namespace bankd::api
