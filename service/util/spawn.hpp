#pragma once
// Completion token for coroutines started in the background: an exception that
// escapes one is a bug, so it is rethrown out of io_context::run() instead of
// being swallowed as boost::asio::detached would.

#include <exception>

namespace bankd::util {

struct rethrow_t {
  void operator()(std::exception_ptr e) const {
    if (e) std::rethrow_exception(e);
  }
};
inline constexpr rethrow_t rethrow{};

}  // namespace bankd::util
