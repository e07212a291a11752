#pragma once
// What an endpoint handler receives and returns.

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/session.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string_view>

namespace bankd::http {

struct request_context {
  request& req;
  path_params params;   // from the route pattern, e.g. {id}
  std::string_view query;  // after '?', undecoded; empty when absent
  request_log& log;
  std::chrono::steady_clock::time_point deadline;  // the whole request must be answered by then
};

using endpoint = std::function<boost::asio::awaitable<response>(request_context&)>;

}  // namespace bankd::http
