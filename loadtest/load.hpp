#pragma once
// The load phase. One worker per connection sends transfers until the
// duration or the request count is reached, in one of two models:
//   closed  each worker sends its next request when the previous one is
//           answered (--concurrency requests in flight);
//   open    requests are due at fixed intervals (--rate); a worker takes the
//           next due slot and latency counts from when it was due, so a slow
//           server cannot hide behind a client that waits for it.
// Alongside the workers: a ticker closing one-second intervals (progress
// line, timeline) and the periodic auditor. Everything runs on one thread.

#include "loadtest/audit.hpp"
#include "loadtest/bank_api.hpp"
#include "loadtest/http_connection.hpp"
#include "loadtest/load_stats.hpp"
#include "loadtest/options.hpp"
#include "loadtest/progress.hpp"
#include "loadtest/run_record.hpp"
#include "loadtest/workload.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace bankd::loadtest {

class load_phase {
 public:
  using clock = std::chrono::steady_clock;

  // Appends one attempt per request to record.attempts.
  load_phase(const options& o, run_record& record, std::vector<http_connection*> conns,
             auditor& audits, progress_printer& progress, std::uint64_t seed);

  boost::asio::awaitable<void> run();
  const load_stats& stats() const noexcept { return stats_; }
  double elapsed_s() const noexcept;
  clock::time_point finished_at() const noexcept { return finished_; }
  // Requests cut off on purpose by --chaos drop-clients.
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  struct delivery {
    std::chrono::milliseconds timeout;
    after_write then = after_write::read_answer;
    bool abandoned = false;  // cut off on purpose: not bankd's doing
  };
  delivery delivery_for(std::size_t seq);
  std::optional<clock::time_point> next_slot();
  boost::asio::awaitable<void> work(http_connection& conn);
  boost::asio::awaitable<void> work_batch(http_connection& conn);
  attempt& new_attempt(const planned_transfer& plan);
  void record_answer(attempt& a, const reply_result& answer, const transfer_answer& meaning,
                     clock::time_point due);
  boost::asio::awaitable<void> tick();
  void close_interval(clock::time_point now);

  const options& options_;
  run_record& record_;
  std::vector<http_connection*> conns_;
  auditor& audits_;
  progress_printer& progress_;
  transfer_planner planner_;
  load_stats stats_;
  boost::asio::steady_timer ticker_;
  clock::time_point start_, end_, finished_, interval_start_;
  std::uint64_t issued_ = 0, dropped_ = 0;
  bool drop_clients_ = false;
  bool stopping_ = false;
};

}  // namespace bankd::loadtest
