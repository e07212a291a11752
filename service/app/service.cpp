#include "app/service.hpp"

#include "api/dispatcher.hpp"
#include "api/health_routes.hpp"
#include "api/reference_routes.hpp"
#include "api/routes.hpp"
#include "bank/services.hpp"
#include "bank/sweeper.hpp"
#include "webhooks/deliverer.hpp"
#include "metrics/registry.hpp"
#include "db/pool.hpp"
#include "http/listener.hpp"
#include "util/log.hpp"
#include "util/spawn.hpp"
#include "util/task_group.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <thread>

namespace bankd::app {
namespace net = boost::asio;

namespace {

std::size_t per_worker(std::size_t total, unsigned workers) {
  return std::max<std::size_t>(1, (total + workers - 1) / workers);
}

// Server settings of every bankd session. client_connection_check_interval
// makes a backend notice, while it waits (on a lock, say), that bankd closed
// the connection, and end its transaction instead of committing later.
std::string session_options(const config& cfg) {
  std::string out = "-c client_connection_check_interval=1000";
  const auto add = [&](const char* name, std::chrono::milliseconds value) {
    if (value.count() > 0) out += " -c " + std::string(name) + "=" + std::to_string(value.count());
  };
  add("statement_timeout", cfg.statement_timeout);
  add("lock_timeout", cfg.lock_timeout);
  add("idle_in_transaction_session_timeout", cfg.idle_in_transaction_timeout);
  return out;
}

db::pool_params pool_params_for(const config& cfg) {
  db::pool_params p;
  p.connect.conninfo = cfg.database_url;
  p.connect.options = session_options(cfg);
  p.min_size = per_worker(cfg.pool_size, cfg.threads);
  p.max_size = per_worker(cfg.pool_max, cfg.threads);
  p.connect_timeout = cfg.connect_timeout;
  p.acquire_timeout = cfg.acquire_timeout;
  p.query_timeout = cfg.query_timeout;
  return p;
}

bank::settings bank_settings(const config& cfg, bank::auth_limiter& limiter,
                             bank::key_cache& keys_cache, const bank::currency_list& currencies,
                             const util::host_allowlist& webhook_allow) {
  bank::settings s;
  s.webhook_allow = &webhook_allow;
  s.operator_keys = cfg.operator_keys;
  s.retries.max_attempts = cfg.max_retries;
  s.limiter = &limiter;
  s.keys_cache = &keys_cache;
  s.currencies = &currencies;
  s.max_open_accounts_per_user = cfg.max_accounts_per_user;
  s.engine.max_batch = cfg.max_batch;
  s.engine.flush_after_unlock = cfg.flush_after_unlock;
  return s;
}

// What the workers share, read only or thread-safe, owned by the service.
struct shared_state {
  metrics::registry& stats;
  net::any_io_executor offload;
  std::atomic<std::size_t>& open_connections;
  http::client_connections& clients;
  const api::api_reference& reference;
  bank::auth_limiter& limiter;
  bank::key_cache& keys_cache;
  const bank::currency_list& currencies;
  const util::host_allowlist& webhook_allow;
};

// The transfer engine's reports, into the process's metrics.
struct engine_metrics final : bank::engine_observer {
  explicit engine_metrics(metrics::registry& r) : stats(r) {}
  void on_batch(std::size_t movements, double seconds, int attempts) override {
    stats.observe_batch(movements, seconds, attempts);
  }
  void on_movement(std::string_view outcome) override { stats.observe_movement(outcome); }
  void on_queue(std::int64_t delta) override { stats.add_queued(delta); }
  metrics::registry& stats;
};

// The expiry sweeper's reports, into the process's metrics.
struct sweeper_metrics final : bank::sweeper_observer {
  explicit sweeper_metrics(metrics::registry& r) : stats(r) {}
  void on_expired(std::size_t holds) override { stats.observe_expired(holds); }
  void on_leading(bool leading) override { stats.set_sweeper_leading(leading); }
  metrics::registry& stats;
};

// Webhook delivery's reports, into the process's metrics.
struct delivery_metrics final : webhooks::delivery_observer {
  explicit delivery_metrics(metrics::registry& r) : stats(r) {}
  void on_delivery(bool acknowledged, double seconds) override { stats.observe_webhook_delivery(acknowledged, seconds); }
  void on_disabled() override { stats.observe_webhook_disabled(); }
  void on_leading(bool leading) override { stats.set_webhook_leading(leading); }
  void on_endpoints(std::size_t enabled, std::size_t disabled) override {
    stats.set_webhook_endpoints(enabled, disabled);
  }
  void on_lag(double seconds) override { stats.set_events_lag(seconds); }
  metrics::registry& stats;
};

webhooks::delivery_params delivery_params_for(const config& cfg, const util::host_allowlist& allowed) {
  webhooks::delivery_params p;
  p.allowed = allowed;
  p.timeout = cfg.webhook_timeout;
  p.backoff = cfg.webhook_backoff;
  p.give_up_after = cfg.webhook_retry_for;
  p.db_timeout = cfg.query_timeout;
  p.user_agent = "bankd-webhooks/" BANKD_VERSION;
  return p;
}

// Runs `fn` on `ioc`'s thread and waits for it.
template <class Fn>
void run_on(net::io_context& ioc, Fn fn) {
  std::promise<void> done;
  net::post(ioc, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

struct worker {
  worker(const config& cfg, const shared_state& shared)
      : pool(ioc.get_executor(), pool_params_for(cfg), shared.offload),
        engine_stats(shared.stats),
        bank(pool, bank_settings(cfg, shared.limiter, shared.keys_cache, shared.currencies, shared.webhook_allow), &shared.stats, &engine_stats),
        handler(shared.stats, cfg.request_timeout) {
    api::add_health_routes(handler.routes(), pool, shared.stats);
    api::add_reference_routes(handler.routes(), shared.reference);
    api::add_bank_routes(handler.routes(), bank);
    env.handler = std::ref(handler);
    env.sessions = &sessions;
    env.limits.max_connections = cfg.max_connections;
    env.limits.max_connections_per_client = cfg.max_connections_per_client;
    env.clients = &shared.clients;
    env.limits.body_limit = cfg.max_body_bytes;
    env.limits.large_bodies = {{"/transfers/batch", cfg.max_batch_body_bytes}};
    env.limits.header_limit = cfg.max_header_bytes;
    env.limits.idle_timeout = cfg.idle_timeout;
    env.limits.read_timeout = cfg.read_timeout;
    env.open_connections = &shared.open_connections;
  }

  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> guard{ioc.get_executor()};
  db::connection_pool pool;
  engine_metrics engine_stats;
  bank::services bank;
  api::dispatcher handler;
  util::task_group sessions{ioc.get_executor()};
  http::session_env env;
  std::thread thread;
};

struct service::impl {
  explicit impl(config c)
      : cfg(std::move(c)), reference(api::api_reference::load(cfg.api_docs_dir)),
        limiter(cfg.auth_failure_burst, cfg.auth_failure_rate),
        currencies(bank::currency_list::parse(cfg.currencies)),
        webhook_allow(util::host_allowlist::parse(cfg.webhook_allow)) {}

  config cfg;
  api::api_reference reference;  // read by every worker
  metrics::registry stats;
  net::thread_pool offload{1};  // blocking libpq calls (name resolution at connect)
  std::atomic<std::size_t> open_connections{0};
  http::client_connections clients;
  bank::auth_limiter limiter;
  bank::key_cache keys_cache;
  bank::currency_list currencies;
  util::host_allowlist webhook_allow;
  std::vector<std::unique_ptr<worker>> workers;
  std::unique_ptr<http::listener> listener;
  std::unique_ptr<sweeper_metrics> sweeper_stats;
  std::unique_ptr<bank::expiry_sweeper> sweeper;  // on worker 0
  std::unique_ptr<delivery_metrics> delivery_stats;
  std::unique_ptr<webhooks::deliverer> deliverer;  // on worker 0, with its pool
  bool stopped = false;
};

service::service(config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  auto& s = *impl_;
  for (unsigned i = 0; i < s.cfg.threads; ++i) {
    const shared_state shared{s.stats,   s.offload.get_executor(), s.open_connections, s.clients,
                              s.reference, s.limiter,                 s.keys_cache, s.currencies, s.webhook_allow};
    auto w = std::make_unique<worker>(s.cfg, shared);
    s.stats.add_pool(&w->pool.stats());
    s.workers.push_back(std::move(w));
  }
  std::vector<http::worker_slot> slots;
  for (auto& w : s.workers) slots.push_back({w->ioc.get_executor(), &w->env});
  const net::ip::tcp::endpoint endpoint(net::ip::make_address(s.cfg.listen_address), s.cfg.port);
  s.listener = std::make_unique<http::listener>(s.workers[0]->ioc.get_executor(), endpoint, std::move(slots));
  s.sweeper_stats = std::make_unique<sweeper_metrics>(s.stats);
  s.sweeper = std::make_unique<bank::expiry_sweeper>(pool_params_for(s.cfg).connect, s.offload.get_executor(),
                                                     s.workers[0]->bank.transfers, bank::sweeper_params{},
                                                     s.sweeper_stats.get());
  s.delivery_stats = std::make_unique<delivery_metrics>(s.stats);
  s.deliverer = std::make_unique<webhooks::deliverer>(
      s.workers[0]->ioc.get_executor(), s.workers[0]->pool, pool_params_for(s.cfg).connect, s.offload.get_executor(),
      delivery_params_for(s.cfg, s.webhook_allow), s.delivery_stats.get());
}

service::~service() { shutdown(); }

std::uint16_t service::port() const { return impl_->listener->local_endpoint().port(); }

void service::start() {
  auto& s = *impl_;
  for (auto& w : s.workers) {
    net::post(w->ioc, [p = &w->pool] { p->start(); });
    w->thread = std::thread([&ioc = w->ioc] { ioc.run(); });
  }
  net::co_spawn(s.workers[0]->ioc, s.listener->run(), util::rethrow);
  net::co_spawn(s.workers[0]->ioc, s.sweeper->run(), util::rethrow);
  net::co_spawn(s.workers[0]->ioc, s.deliverer->run(), util::rethrow);
  log::info("bankd.started")
      .kv("address", s.cfg.listen_address)
      .kv("port", port())
      .kv("threads", s.cfg.threads)
      .kv("pool_size", s.cfg.pool_size);
}

void service::run_until_signal() {
  net::io_context signals_ctx;
  net::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int signal) {
    log::info("bankd.signal").kv("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  signals_ctx.run();
  shutdown();
}

namespace {

// Waits, from the calling thread, for every worker's sessions to end by
// `deadline`; the number of sessions still running.
std::size_t wait_for_sessions(std::vector<std::unique_ptr<worker>>& workers,
                              std::chrono::steady_clock::time_point deadline) {
  std::vector<std::future<bool>> done;
  for (auto& w : workers) done.push_back(net::co_spawn(w->ioc, w->sessions.wait(deadline), net::use_future));
  for (auto& d : done) d.wait();
  std::size_t left = 0;
  for (auto& w : workers) run_on(w->ioc, [&] { left += w->sessions.size(); });
  return left;
}

}  // namespace

void service::shutdown() {
  auto& s = *impl_;
  if (s.stopped || s.workers.empty() || !s.workers[0]->thread.joinable()) return;
  s.stopped = true;
  run_on(s.workers[0]->ioc, [&] {
    s.listener->close();
    s.sweeper->stop();
    s.deliverer->stop();
  });
  // Idle keep-alive connections close now; requests in flight are answered.
  for (auto& w : s.workers)
    run_on(w->ioc, [&w] {
      w->env.stopping = true;
      w->sessions.emit(net::cancellation_type::total);
    });
  const auto now = std::chrono::steady_clock::now();
  if (const auto unfinished = wait_for_sessions(s.workers, now + s.cfg.shutdown_timeout); unfinished > 0) {
    log::warn("bankd.shutdown_forced").kv("open_connections", unfinished);
    for (auto& w : s.workers)
      run_on(w->ioc, [&w] {
        w->sessions.emit(net::cancellation_type::terminal);
        w->bank.engine.stop();
      });
    wait_for_sessions(s.workers, std::chrono::steady_clock::now() + std::chrono::seconds(2));
  }
  for (auto& w : s.workers) {
    run_on(w->ioc, [&w] { w->pool.close(); });
    w->guard.reset();
  }
  // Remaining work (a connect in progress) is bounded by its own deadline;
  // stop the loops outright if it still takes too long.
  for (auto& w : s.workers) {
    auto finished = std::async(std::launch::async, [&w] { w->thread.join(); });
    if (finished.wait_for(s.cfg.connect_timeout + std::chrono::seconds(1)) != std::future_status::ready) {
      w->ioc.stop();
      finished.wait();
    }
  }
  s.offload.join();
  log::info("bankd.stopped");
}

}  // namespace bankd::app
