#pragma once
// bankd as a child of bank-loadtest (--bankd-cmd), so that --chaos kill-bankd
// can SIGKILL it mid-run and start it again. The command runs as
// `/bin/sh -c 'exec CMD'`: the process signalled is bankd itself, provided
// the command ends by running it (`env A=b bankd ...` does). bankd's output
// goes to ours.
//
// Constructed and destroyed on the run's main thread; in between, only the
// chaos thread calls kill() and start(), never both threads at once.

#include "loadtest/options.hpp"

#include <sys/types.h>

#include <chrono>
#include <string>

namespace bankd::loadtest {

class bankd_child {
 public:
  // Starts bankd and waits until it is ready; throws when it exits or is not
  // ready within the start-up limit.
  bankd_child(std::string command, endpoint where);
  bankd_child(const bankd_child&) = delete;
  bankd_child& operator=(const bankd_child&) = delete;
  ~bankd_child();  // stop()

  // SIGKILL and reap. Empty, or what was wrong (it had died already).
  std::string kill();
  // Starts it again, without waiting for readiness (the caller times that).
  // Empty, or why it could not be started.
  std::string start();
  // SIGTERM, then SIGKILL if it has not exited after the grace period.
  // Empty, or how it ended if that was not a clean exit.
  std::string stop();

  const endpoint& where() const noexcept { return where_; }

 private:
  std::string command_;
  endpoint where_;
  pid_t pid_ = -1;
};

// The kinds of exit waitpid() reported, for messages ("exit 1", "signal 9").
std::string describe_exit(int wait_status);

}  // namespace bankd::loadtest
