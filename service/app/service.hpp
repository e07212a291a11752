#pragma once
// `bankd serve`: the running service.
//
// Thread model: `threads` workers, each an io_context run by one thread with
// its own connection pool, API handler and HTTP sessions. A connection, once
// accepted, lives on one worker for its whole life, and so does every database
// connection, so request handling shares no mutable state across threads
// (metrics use atomics). One listener, on worker 0, accepts and deals the
// connections to the workers in turn.
//
// Shutdown (SIGINT/SIGTERM): stop accepting; emit total cancellation to every
// worker's sessions, which only idle keep-alive reads let through, so idle
// connections close at once while requests in flight are answered (with
// Connection: close); wait for them up to shutdown_timeout; then emit
// terminal cancellation, which ends everything left (a database operation
// cancelled this way discards its connection), and close the pools.

#include "app/config.hpp"

#include <cstdint>
#include <memory>

namespace bankd::app {

class service {
public:
  explicit service(config cfg);
  service(const service&) = delete;
  service& operator=(const service&) = delete;
  ~service();

  // Binds the port (throws if it cannot), opens the pools, starts the threads.
  void start();
  // Blocks until SIGINT or SIGTERM, then shuts down.
  void run_until_signal();
  // Graceful shutdown; safe to call more than once.
  void shutdown();
  std::uint16_t port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bankd::app
