#pragma once
// The request handler of one io_context thread: gives each request its
// deadline, routes it to its endpoint, answers 404/405 for unknown paths and
// methods, and records the request in metrics. Endpoints are registered by
// the route files of this folder.
//
// One per io_context thread; used from that thread only.

#include "http/endpoint.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>

namespace bankd::api {

class dispatcher {
public:
  // `budget`: how long a request may take from the moment it was read, all
  // database work included; past it, the request is answered 503.
  dispatcher(metrics::registry& stats, std::chrono::milliseconds budget) : stats_(stats), budget_(budget) {}

  http::router<http::endpoint>& routes() noexcept { return routes_; }
  boost::asio::awaitable<http::response> operator()(http::request& req, http::request_log& log);

private:
  http::router<http::endpoint> routes_;
  metrics::registry& stats_;
  std::chrono::milliseconds budget_;
};

}  // namespace bankd::api
