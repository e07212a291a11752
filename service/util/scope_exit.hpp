#pragma once
// Runs a callable when the scope ends, on every path (return, exception,
// coroutine destruction).

#include <utility>

namespace bankd::util {

template <class F>
class scope_exit {
public:
  explicit scope_exit(F f) : f_(std::move(f)) {}
  scope_exit(const scope_exit&) = delete;
  scope_exit& operator=(const scope_exit&) = delete;
  ~scope_exit() { f_(); }

private:
  F f_;
};

}  // namespace bankd::util
