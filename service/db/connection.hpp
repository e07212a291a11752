#pragma once
// One non-blocking libpq connection driven by Asio.
//
// Thread model: a connection belongs to the io_context thread it was created on;
// every member is called from that thread only. It owns the PGconn and watches
// a duplicate of its socket with a stream_descriptor: libpq's own descriptor
// stays libpq's to close, and Asio only ever touches the number it owns.
//
// After connect the connection is in non-blocking pipeline mode, and every call
// to execute() is one pipeline: queries queued, one sync, one flush, results
// matched in order. Each execute() has a deadline. A timeout, a cancellation or
// a lost socket leaves the protocol state unknown: the connection then reports
// !is_usable() and must be discarded, never reused.

#include "db/error.hpp"
#include "db/pipeline.hpp"
#include "db/statement.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace bankd::db {

using clock = std::chrono::steady_clock;

struct connect_params {
  std::string conninfo;                  // libpq keyword/value string or postgresql:// URL
  std::string application_name = "bankd";
  std::string options;                   // server options, e.g. "-c statement_timeout=10s"
  // Refuse a server that takes no writes (a hot standby, or
  // default_transaction_read_only on): connect() fails with errc::unavailable
  // and a connection whose server turns read-only stops being usable.
  bool require_writable = true;
};

// `p` under another application_name (what pg_stat_activity shows).
inline connect_params named(connect_params p, std::string application_name) {
  p.application_name = std::move(application_name);
  return p;
}

class connection {
public:
  // Opens a connection. `offload`, when set, runs the part of libpq that may
  // block (PQconnectStart resolves host names) off the calling thread.
  static boost::asio::awaitable<result<std::unique_ptr<connection>>> connect(
      const connect_params& params, boost::asio::any_io_executor offload,
      clock::time_point deadline);

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // Runs a batch as one pipeline. On error the first failure is returned and the
  // connection is rolled back to idle (an extra round trip) when a transaction
  // was left open by the failure.
  boost::asio::awaitable<result<batch_result>> execute(const batch& b, tx_frame frame,
                                                       clock::time_point deadline);

  // Ends an explicit transaction that a caller decided not to commit.
  boost::asio::awaitable<result<void>> rollback(clock::time_point deadline);

  // Usable means: socket healthy, no operation half-done, no transaction open,
  // and, with require_writable, a server that still takes writes.
  bool is_usable() const noexcept;
  // The server says it takes no writes: in_hot_standby or
  // default_transaction_read_only, which servers since 14 report to libpq
  // unasked (ParameterStatus) whenever they change, so no query is needed.
  bool server_read_only() const noexcept;
  // The server process of this connection (known even after it broke).
  int backend_pid() const noexcept;
  clock::time_point last_used() const noexcept { return last_used_; }

private:
  connection(boost::asio::any_io_executor ex, PGconn* conn, bool require_writable,
             boost::asio::any_io_executor offload);
  // A deadline passed or the wait was cancelled with work on the server:
  // ask the server to cancel it (PQcancel, off this thread), so that a
  // statement waiting on a lock cannot go on to commit after bankd gave up.
  void cancel_on_server();

  boost::asio::awaitable<result<void>> poll_connect(boost::asio::any_io_executor offload);
  error classify_failure(error e);
  bool attach_socket();
  void arm_deadline(clock::time_point deadline);
  void disarm_deadline();
  boost::asio::awaitable<errc> wait(bool for_read);
  boost::asio::awaitable<errc> flush();
  boost::asio::awaitable<result<query_result>> next_result();
  bool send_plan(const std::vector<slot>& plan, const batch& b, const tx_frame& frame);
  int send_lock(const char* sql);
  boost::asio::awaitable<result<void>> read_plan(const std::vector<slot>& plan,
                                                 pipeline_outcome& outcome);
  boost::asio::awaitable<result<void>> run_rollback(std::optional<std::int64_t> advisory_lock);
  error fail(errc e, std::string_view what);

  PGconn* conn_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer deadline_timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // lets the timer handler see us die
  std::uint64_t deadline_generation_ = 0;
  bool deadline_expired_ = false;
  bool busy_ = false;      // an operation is half-done (left set if unwound by an exception)
  bool poisoned_ = false;  // protocol state unknown; discard
  std::vector<const statement*> prepared_;
  std::vector<const char*> param_pointers_;
  std::string lock_key_;  // the advisory lock of the pipeline being sent, as text
  clock::time_point last_used_ = clock::now();
  int backend_pid_ = 0;
  bool require_writable_;
  boost::asio::any_io_executor offload_;  // runs the blocking PQcancel; none: run here
};

}  // namespace bankd::db
