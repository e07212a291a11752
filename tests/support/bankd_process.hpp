#pragma once
// bankd as a child process (the built binary), for tests that signal it:
// SIGTERM for graceful shutdown, SIGKILL for a crash.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bankd::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

class bankd_process {
 public:
  struct options {
    std::vector<std::string> env;  // NAME=value, added after (and so winning over) the defaults
    int stderr_fd = -1;            // the child's stderr; -1: the test's own
  };

  // Starts `bankd serve` on 127.0.0.1:port against `conninfo` (as its serve
  // role, see serve_conninfo_for) with the test operator key, 2 threads and a
  // pool of 8.
  bankd_process(const std::string& conninfo, std::uint16_t port, options opts);
  bankd_process(const std::string& conninfo, std::uint16_t port) : bankd_process(conninfo, port, options{}) {}
  bankd_process(const bankd_process&) = delete;
  bankd_process& operator=(const bankd_process&) = delete;
  ~bankd_process();  // SIGKILL if still running

  // Sends `signal` and waits for the exit; returns the waitpid() status.
  int stop(int signal);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// True once GET /readyz answers 200, within 10 s.
bool wait_ready(std::uint16_t port);

}  // namespace bankd::test
