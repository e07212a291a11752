// The event feed: GET /events?after=&limit=&wait=.

#include "api/exchange.hpp"
#include "api/query_params.hpp"
#include "api/routes.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <limits>

namespace bankd::api {
namespace net = boost::asio;
using nlohmann::json;
using http::beast_http::verb;

namespace {

constexpr std::int64_t default_page = 100;
constexpr std::int64_t max_page = 1000;
constexpr std::int64_t max_wait_seconds = 30;

outcome<bank::event_query> read_event_query(std::string_view query) {
  auto p = query_params(query, {"after", "limit", "wait"});
  if (!p) return p.error();
  bank::event_query q;
  auto after = integer_param(*p, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
  if (!after) return after.error();
  auto limit = limit_param(*p, default_page, max_page);
  if (!limit) return limit.error();
  auto wait = integer_param(*p, "wait", 0, 0, max_wait_seconds);
  if (!wait) return wait.error();
  q.after = *after;
  q.limit = *limit;
  q.wait = std::chrono::seconds(*wait);
  return q;
}

json event_json(const bank::event_record& e) {
  return {{"id", e.id}, {"type", e.type}, {"occurred_at", e.occurred_at}, {"data", json::parse(e.data)}};
}

net::awaitable<outcome<http::response>> list_events(exchange& x) {
  auto q = read_event_query(x.http.query);
  if (!q) co_return q.error();
  co_return respond(co_await x.bank.events.read(x.call, *q), [](const bank::event_page& page) {
    json items = json::array();
    for (const auto& e : page.events) items.push_back(event_json(e));
    return json_ok({{"events", std::move(items)}, {"next_after", page.next_after}});
  });
}

}  // namespace

void add_event_routes(route_table& routes, bank::services& bank) {
  routes.add(verb::get, "/events", secured(bank, access::any_key, list_events));
}

}  // namespace bankd::api
