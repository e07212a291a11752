#include "api/dispatcher.hpp"

#include <chrono>

namespace bankd::api {
namespace net = boost::asio;

net::awaitable<http::response> dispatcher::operator()(http::request& req, http::request_log& log) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view target = req.target();
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  auto found = routes_.find(req.method(), path);
  http::response res;
  if (found.handler != nullptr) {
    log.route = found.route;
    http::request_context ctx{req, std::move(found.params), query, log, started + budget_};
    res = co_await (*found.handler)(ctx);
  } else if (!found.allowed.empty()) {
    log.route = found.route;
    res = http::error_response(http::status::method_not_allowed, "method_not_allowed",
                               "method not allowed on this resource");
    res.set(http::beast_http::field::allow, found.allowed);
  } else {
    res = http::error_response(http::status::not_found, "not_found", "no such resource");
  }
  if (res.result_int() >= 400 && log.error.empty()) log.error = "see_body";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stats_.observe_request(http::beast_http::to_string(req.method()), log.route, res.result_int(),
                         seconds);
  co_return res;
}

}  // namespace bankd::api
