#pragma once
// One keep-alive HTTP/1.1 client connection to a bankd instance, driven by
// coroutines on a single-threaded io_context (no strand: the caller's thread
// is the only one touching it). One request at a time.
//
// A request that was written but not answered within its deadline fails with
// an error_code and is never re-sent here: for money-moving requests only the
// caller knows whether a retry is safe (it replays with the same
// Idempotency-Key). Any failure closes the connection; the next request
// reconnects.

#include "loadtest/options.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace bankd::loadtest {

struct reply {
  unsigned status = 0;
  std::string body;
  bool replayed = false;     // Idempotent-Replayed: true
  bool retry_after = false;  // has a Retry-After header
};

// Why a request got no response. `sent` is false only when the request
// certainly never reached the server (the connection could not be opened), so
// the server cannot have acted on it; once writing has begun it is true.
struct exec_failure {
  boost::system::error_code code;
  bool sent = true;
};
using exec_result = boost::system::result<reply, exec_failure>;

// What a request carries besides its method and target.
struct request_parts {
  std::string_view body;             // JSON; empty: no body
  std::string_view bearer;           // API key; empty: no Authorization
  std::string_view idempotency_key;  // empty: none
};

// What to do once the request is written: wait for the answer, or hang up
// without reading it, as a client that goes away mid-request does (--chaos
// drop-clients). A hung-up request fails with operation_aborted, sent.
enum class after_write : std::uint8_t { read_answer, hang_up };

class http_connection {
 public:
  http_connection(boost::asio::any_io_executor executor, endpoint where);

  // Sends one request and reads its response, connecting first if needed;
  // `timeout` bounds connect, write and read together.
  boost::asio::awaitable<exec_result> exec(boost::beast::http::verb method, std::string_view target,
                                           const request_parts& parts,
                                           std::chrono::milliseconds timeout,
                                           after_write then = after_write::read_answer);
  void close();
  const endpoint& where() const noexcept { return where_; }
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  boost::asio::awaitable<boost::system::error_code> connect();

  endpoint where_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::resolver::results_type resolved_;
  bool connected_ = false;
};

}  // namespace bankd::loadtest
