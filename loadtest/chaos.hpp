#pragma once
// Fault injection alongside the load (--chaos): a thread of its own that,
// every interval, kills bankd's database backends, takes PostgreSQL down,
// kills bankd itself or kills the primary of a pg_auto_failover formation
// (failover, see chaos_failover.cpp), and while the database is away checks
// that bankd says so (/readyz 503) and fails fast (503 with Retry-After, not
// a hang).
// Blocking calls (libpq, pg_ctl, waitpid) are why it is a thread and not a
// coroutine on the load's loop. Dropped clients are the load's part (see
// load_phase). What the load's own transfers show about each fault is matched
// afterwards, by time, in assess_faults().

#include "loadtest/bankd_child.hpp"
#include "loadtest/options.hpp"
#include "loadtest/run_record.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bankd::loadtest {

// While the database is away, a request must be answered (503 + Retry-After)
// within this: the pool fails fast instead of waiting out its acquire deadline.
// Both the chaos thread's probes and the load's own transfers are held to it.
inline constexpr double outage_answer_limit_ms = 1000;
// Load needed after a fault to judge its recovery: a fault that would leave
// less is not started, and one that did is not held against bankd.
inline constexpr std::chrono::seconds recovery_window{3};
// failover: the first 201 after the primary was killed must come within this
// (with the monitor settings of scripts/ha/formation.sh promotion takes ~8 s).
inline constexpr std::chrono::seconds failover_first_201_limit{15};

// One fault and what bankd did about it. Recovery is timed from the fault's
// end: the backends terminated, `pg_ctl restart` or `pg_ctl start` returned,
// or the killed bankd started again.
struct chaos_event {
  using time_point = std::chrono::steady_clock::time_point;

  std::string kind;  // kill-backends, restart-db, stop-db, kill-bankd, failover
  double at_s = 0;   // since the load started
  bool injected = false;
  int backends_killed = 0;
  double outage_s = 0;        // from the fault's start to its end
  double ready_again_s = -1;  // from the end to /readyz 200; < 0: never
  double first_201_s = -1;    // from the end to the first 201 of a transfer sent after it

  // stop-db, while the database was down: the chaos thread's own probes ...
  int probes = 0;
  int probes_503 = 0;  // 503 with Retry-After
  bool readyz_503_seen = false;
  double slowest_probe_ms = 0;
  // ... and the load's transfers sent then
  int outage_transfers = 0;
  int outage_transfers_503 = 0;  // 503 with Retry-After
  double slowest_outage_transfer_ms = 0;

  // failover: the node killed, when (from the kill) a read-write connection
  // through --database-url succeeded again, when the first 201 came relative
  // to that, and when the killed node was back as a secondary.
  std::string killed_node;
  double writable_s = -1;
  double first_201_after_writable_s = 0;
  double rejoined_s = -1;
  // The killed node is always started again, but its rejoin is awaited only
  // when another failover is to come: the last one's rejoin is
  // pg_auto_failover's work alone and may outlast the run.
  bool rejoin_awaited = false;
  // ... and the load's transfers sent after the kill and answered before the
  // first 201 (outage_transfers*, above): 503 with Retry-After, all of them.

  std::vector<std::string> problems;  // bankd misbehaved, or the fault could not be injected
  time_point ended;
  time_point down_from, down_until;  // stop-db: the database was certainly down
};

struct chaos_summary {
  std::vector<chaos_event> events;
  std::map<std::string, int> injected;  // per kind, with dropped-clients counted by the load
  std::vector<std::string> problems;    // every event's, prefixed with its kind and time
  // Faults of --chaos-count left out because the run had too little time
  // left for one (a slow recovery of the fault before, say): not bankd's
  // fault, but a run that counts on them has not proved what it meant to.
  std::size_t not_started = 0;
};

class chaos_monkey {
 public:
  // `probe_account`: an account id whose GET needs the database. `bankd`:
  // the instance kill-bankd kills and starts again; null without kill-bankd.
  chaos_monkey(const options& o, std::int64_t probe_account, bankd_child* bankd);
  chaos_monkey(const chaos_monkey&) = delete;
  chaos_monkey& operator=(const chaos_monkey&) = delete;
  ~chaos_monkey();

  void start();
  // Stops injecting, waits for a fault in progress to end (the database is up
  // again afterwards) and for bankd to be ready, and returns the events.
  chaos_summary finish();

 private:
  void loop();
  bool wait(std::chrono::milliseconds d);  // false when finish() was called
  bool time_left_for(const std::string& kind) const;
  // `last`: no fault of --chaos-count comes after this one.
  void inject(const std::string& kind, bool last);
  void kill_backends(chaos_event& e);
  void take_database_down(chaos_event& e);
  void restart_database(chaos_event& e);
  void kill_bankd(chaos_event& e);
  void fail_over(chaos_event& e);  // chaos_failover.cpp
  void await_writable(chaos_event& e);
  void await_rejoin(chaos_event& e, bool wait_for_it);
  void watch_outage(chaos_event& e, std::chrono::steady_clock::time_point until);
  void await_recovery(chaos_event& e);

  const options& options_;
  std::int64_t probe_account_;
  bankd_child* bankd_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  chaos_summary summary_;
};

// After the load: matches the load's transfers to each fault (those sent
// while the database was down must have been 503 + Retry-After within 1 s;
// after a failover, the first 201 must come within 15 s of the kill;
// a transfer sent after the fault must be acknowledged again, unless the load
// ended first), then counts the faults and collects every problem.
void assess_faults(chaos_summary& summary, const std::deque<attempt>& attempts,
                   std::chrono::steady_clock::time_point load_end);

// The kinds --chaos accepts.
bool is_chaos_kind(const std::string& kind);

}  // namespace bankd::loadtest
