#include "loadtest/load.hpp"

#include "loadtest/bank_api.hpp"
#include "loadtest/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdlib>
#include <cmath>

namespace bankd::loadtest {
namespace net = boost::asio;

namespace {

constexpr auto tick_interval = std::chrono::seconds(1);
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto unreachable_pause = std::chrono::milliseconds(100);
constexpr std::size_t drop_every = 25;
constexpr auto drop_timeout = std::chrono::milliseconds(2);

std::vector<std::size_t> currency_indexes(const run_record& record, const options& o) {
  std::vector<std::size_t> out;
  for (const auto& a : record.accounts)
    out.push_back(static_cast<std::size_t>(
        std::find(o.currencies.begin(), o.currencies.end(), a.currency) - o.currencies.begin()));
  return out;
}

}  // namespace

load_phase::load_phase(const options& o, run_record& record, std::vector<http_connection*> conns,
                       auditor& audits, progress_printer& progress, std::uint64_t seed)
    : options_(o),
      record_(record),
      conns_(std::move(conns)),
      audits_(audits),
      progress_(progress),
      planner_(o.pick, currency_indexes(record, o), o.amount_min, o.amount_max, seed),
      ticker_(conns_.front()->executor()),
      drop_clients_(std::find(o.chaos.begin(), o.chaos.end(), "drop-clients") != o.chaos.end()) {}

double load_phase::elapsed_s() const noexcept {
  return std::chrono::duration<double>(finished_ - start_).count();
}

// Single-threaded, so handing out slots needs no synchronisation.
std::optional<load_phase::clock::time_point> load_phase::next_slot() {
  if (options_.transfers > 0 && issued_ >= options_.transfers) return std::nullopt;
  auto due = clock::now();
  if (options_.rate > 0) {
    const auto offset = std::llround(static_cast<double>(issued_) * 1e9 / options_.rate);
    due = start_ + std::chrono::nanoseconds(offset);
  }
  if (due >= end_) return std::nullopt;
  ++issued_;
  return due;
}

// drop-clients: one request in 25 is abandoned mid-request, in turn in the
// two ways clients do it: hanging up as soon as the request is written
// (bankd works on a request nobody waits for), and a deadline too short for
// the answer (the client gives up while bankd may be about to answer).
load_phase::delivery load_phase::delivery_for(std::size_t seq) {
  if (!drop_clients_ || seq % drop_every != drop_every / 2) return {options_.request_timeout};
  ++dropped_;
  if ((seq / drop_every) % 2 == 0) return {options_.request_timeout, after_write::hang_up, true};
  return {drop_timeout, after_write::read_answer, true};
}

attempt& load_phase::new_attempt(const planned_transfer& plan) {
  auto& a = record_.attempts.emplace_back();
  a.seq = record_.attempts.size() - 1;
  a.from = plan.from;
  a.to = plan.to;
  a.amount = plan.amount;
  return a;
}

void load_phase::record_answer(attempt& a, const reply_result& answer, const transfer_answer& meaning,
                               clock::time_point due) {
  a.answered_at = clock::now();
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(a.answered_at - due);
  a.status = static_cast<std::uint16_t>(answer ? answer->status : 0);
  // A batch's 200 carries each item's own status; the label starts with it.
  if (answer && answer->status == 200) a.status = static_cast<std::uint16_t>(std::atoi(meaning.label.c_str()));
  a.retry_after = answer && answer->retry_after;
  a.first = meaning.kind;
  a.transfer_id = meaning.transfer_id;
  if (a.first == outcome::ambiguous) a.replay = resolution::unresolved;  // until a replay says otherwise
  stats_.record(meaning, static_cast<std::uint64_t>(latency.count()));
}

// --batch: each request carries options_.batch transfers, from one account.
net::awaitable<void> load_phase::work_batch(http_connection& conn) {
  net::steady_timer timer(conn.executor());
  for (;;) {
    std::optional<clock::time_point> first_due;
    std::size_t n = 0;
    while (n < options_.batch) {
      const auto due = next_slot();
      if (!due) break;
      if (!first_due) first_due = due;
      ++n;
    }
    if (n == 0) co_return;
    if (*first_due > clock::now()) {
      timer.expires_at(*first_due);
      co_await timer.async_wait(use_tuple);
    }
    std::vector<attempt*> items;
    for (const auto& plan : planner_.next_batch(n)) items.push_back(&new_attempt(plan));
    const auto sent_at = clock::now();
    for (auto* a : items) a->sent_at = sent_at;
    const std::vector<const attempt*> view(items.begin(), items.end());
    const auto answer = co_await send_batch(conn, record_, view, options_.request_timeout);
    const auto meanings = classify_batch(answer, record_, view);
    for (std::size_t i = 0; i < items.size(); ++i) record_answer(*items[i], answer, meanings[i], *first_due);
    if (!answer || answer->status == 503) {
      timer.expires_after(unreachable_pause);
      co_await timer.async_wait(use_tuple);
    }
  }
}

net::awaitable<void> load_phase::work(http_connection& conn) {
  if (options_.batch > 1) co_return co_await work_batch(conn);
  net::steady_timer timer(conn.executor());
  while (const auto due = next_slot()) {
    if (*due > clock::now()) {
      timer.expires_at(*due);
      co_await timer.async_wait(use_tuple);
    }
    auto& a = new_attempt(planner_.next());
    const auto how = delivery_for(a.seq);
    a.abandoned = how.abandoned;
    a.sent_at = clock::now();
    const auto answer = co_await send_transfer(conn, record_, a, how.timeout, how.then);
    const auto meaning =
        classify_transfer(answer, record_.accounts[a.from], record_.accounts[a.to], a.amount, true);
    record_answer(a, answer, meaning, *due);
    // bankd is not there, or asks to come back later (503 + Retry-After):
    // pause as a polite client would instead of spinning on instant refusals.
    if (a.first == outcome::unsent || a.status == 503) {
      timer.expires_after(unreachable_pause);
      co_await timer.async_wait(use_tuple);
    }
  }
}

void load_phase::close_interval(clock::time_point now) {
  const double length = std::chrono::duration<double>(now - interval_start_).count();
  const auto& point =
      stats_.close_interval(std::chrono::duration<double>(now - start_).count(), length);
  interval_start_ = now;
  progress_.update(point, stats_, audits_.summary());
}

net::awaitable<void> load_phase::tick() {
  while (!stopping_) {
    ticker_.expires_at(interval_start_ + tick_interval);
    co_await ticker_.async_wait(use_tuple);
    if (stopping_) break;
    close_interval(clock::now());
  }
}

net::awaitable<void> load_phase::run() {
  const auto executor = co_await net::this_coro::executor;
  start_ = interval_start_ = clock::now();
  end_ = options_.duration.count() > 0 ? start_ + options_.duration : clock::time_point::max();
  task_group side(executor);
  side.spawn(tick());
  side.spawn(audits_.run_every(options_.audit_interval));
  task_group workers(executor);
  for (auto* conn : conns_) workers.spawn(work(*conn));
  std::exception_ptr failure;
  try {
    co_await workers.wait();
  } catch (...) {
    failure = std::current_exception();
  }
  finished_ = clock::now();
  // The side tasks refer to this object: stop them and wait before leaving.
  stopping_ = true;
  ticker_.cancel();
  audits_.stop();
  co_await side.wait();
  if (failure) std::rethrow_exception(failure);
  if (finished_ - interval_start_ > std::chrono::milliseconds(100)) close_interval(finished_);
  progress_.finish();
}

}  // namespace bankd::loadtest
