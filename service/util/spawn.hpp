#pragma once
// Completion tokens for coroutines started with co_spawn in the background.

#include <exception>
#include <string_view>

namespace bankd::util {

// An exception escaping a background task of our own (pool maintenance,
// accept loop) is a bug: rethrow it out of io_context::run() instead of
// swallowing it as boost::asio::detached would.
struct rethrow_t {
  void operator()(const std::exception_ptr& e) const {
    if (e) std::rethrow_exception(e);
  }
};
inline constexpr rethrow_t rethrow{};

// For per-client work (HTTP sessions): one client's failure is logged and must
// not take the process down.
struct log_failure {
  std::string_view task;
  void operator()(const std::exception_ptr& e) const;
};

}  // namespace bankd::util
