#pragma once
// Fault injection alongside the load (--chaos): a thread of its own that,
// every interval, kills bankd's database backends or takes PostgreSQL down,
// and while the database is away checks that bankd says so (/readyz 503) and
// fails fast (503 with Retry-After, not a hang). Blocking calls (libpq,
// pg_ctl) are why it is a thread and not a coroutine on the load's loop.
// Dropped clients are the load's part: see load_phase.

#include "loadtest/options.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bankd::loadtest {

// One fault and what bankd did about it.
struct chaos_event {
  std::string kind;  // kill-backends, restart-db, stop-db
  double at_s = 0;   // since the load started
  int backends_killed = 0;
  double outage_s = 0;       // database unavailable (stop to start finished)
  double ready_again_s = 0;  // from the database's return to /readyz 200; < 0: never
  int probes = 0;            // requests sent while the database was down
  int probes_503 = 0;        // of those, 503 with Retry-After
  bool readyz_503_seen = false;
  double slowest_probe_ms = 0;
  std::string problem;  // empty: the fault was injected and bankd behaved
};

struct chaos_summary {
  std::vector<chaos_event> events;
  std::map<std::string, int> injected;  // per kind, with dropped-clients counted by the load
  std::vector<std::string> problems;    // bankd misbehaved or a fault could not be injected
};

class chaos_monkey {
 public:
  // `probe_account`: an account id whose GET needs the database.
  chaos_monkey(const options& o, std::int64_t probe_account);
  chaos_monkey(const chaos_monkey&) = delete;
  chaos_monkey& operator=(const chaos_monkey&) = delete;
  ~chaos_monkey();

  void start();
  // Stops injecting, waits for a fault in progress to end (the database is up
  // again afterwards) and for bankd to be ready, and reports.
  chaos_summary finish();

 private:
  void loop();
  bool wait(std::chrono::milliseconds d);  // false when finish() was called
  void inject(const std::string& kind);
  chaos_event kill_backends();
  chaos_event take_database_down(bool restart);
  void watch_outage(chaos_event& e, std::chrono::steady_clock::time_point until);
  double time_to_ready(std::chrono::milliseconds limit);

  const options& options_;
  std::int64_t probe_account_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  chaos_summary summary_;
};

// The kinds --chaos accepts.
bool is_chaos_kind(const std::string& kind);

}  // namespace bankd::loadtest
