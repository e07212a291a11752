#pragma once
// The request handler of one io_context thread: routes a request to its
// endpoint, answers 404/405 for unknown paths and methods, and records the
// request in metrics. Endpoints are registered by the parts that own them
// (health here, the bank API in service/bank).

#include "http/endpoint.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/awaitable.hpp>

namespace bankd::app {


class api {
public:
  explicit api(metrics::registry& stats) : stats_(stats) {}

  http::router<http::endpoint>& routes() noexcept { return routes_; }
  boost::asio::awaitable<http::response> operator()(http::request& req, http::request_log& log);

private:
  http::router<http::endpoint> routes_;
  metrics::registry& stats_;
};

}  // namespace bankd::app
