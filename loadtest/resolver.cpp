#include "loadtest/resolver.hpp"

#include "loadtest/bank_api.hpp"
#include "loadtest/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace bankd::loadtest {
namespace net = boost::asio;

namespace {

constexpr int max_replays = 8;
constexpr std::size_t max_connections = 8;

net::awaitable<void> back_off(int replay) {
  const auto wait =
      std::min(std::chrono::milliseconds(100 << replay), std::chrono::milliseconds(3000));
  net::steady_timer timer(co_await net::this_coro::executor, wait);
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> resolve_one(http_connection& conn, run_record& record, attempt& a,
                                 std::chrono::milliseconds timeout, resolve_summary& summary) {
  for (int replay = 0; replay < max_replays; ++replay) {
    if (replay > 0) co_await back_off(replay);
    const auto answer = co_await send_attempt(conn, record, a, timeout);
    const auto meaning = classify_attempt(answer, record, a, false);
    if (!meaning.anomaly.empty() || meaning.label.ends_with("422 idempotency_key_reused"))
      summary.violations.push_back(
          {"replay", "key " + record.transfer_key(a.seq) + ": " +
                         (meaning.anomaly.empty() ? meaning.label : meaning.anomaly)});
    if (meaning.kind == outcome::acknowledged) {
      a.replay = resolution::committed;
      a.transfer_id = meaning.transfer_id;
      ++summary.committed;
      co_return;
    }
    if (meaning.kind == outcome::refused) {
      a.replay = resolution::not_committed;
      ++summary.not_committed;
      co_return;
    }
  }
  a.replay = resolution::unresolved;
  ++summary.unresolved;
}

net::awaitable<void> resolve_queue(http_connection& conn, run_record& record,
                                   std::vector<attempt*>& queue, std::size_t& next,
                                   std::chrono::milliseconds timeout, resolve_summary& summary) {
  while (next < queue.size()) co_await resolve_one(conn, record, *queue[next++], timeout, summary);
}

}  // namespace

net::awaitable<resolve_summary> resolve_ambiguous(const std::vector<http_connection*>& conns,
                                                  run_record& record,
                                                  std::chrono::milliseconds timeout) {
  std::vector<attempt*> queue;
  for (auto& a : record.attempts)
    if (a.first == outcome::ambiguous) queue.push_back(&a);
  resolve_summary summary;
  std::size_t next = 0;
  task_group replayers(co_await net::this_coro::executor);
  for (std::size_t i = 0; i < std::min({conns.size(), max_connections, queue.size()}); ++i)
    replayers.spawn(resolve_queue(*conns[i], record, queue, next, timeout, summary));
  co_await replayers.wait();
  co_return summary;
}

}  // namespace bankd::loadtest
