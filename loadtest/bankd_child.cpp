#include "loadtest/bankd_child.hpp"

#include "loadtest/probe.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bankd::loadtest {
using namespace std::chrono_literals;

namespace {

constexpr auto start_up_limit = 30s;
// Longer than bankd's default shutdown grace (10 s), so a clean stop is seen.
constexpr auto stop_grace = 15s;
constexpr auto exit_poll = 20ms;

// The exit status once `pid` has exited within `limit`; -1 if it has not.
int wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(exit_poll);
  }
  return status;
}

}  // namespace

std::string describe_exit(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "signal " + std::to_string(WTERMSIG(wait_status));
  return "status " + std::to_string(wait_status);
}

bankd_child::bankd_child(std::string command, endpoint where)
    : command_(std::move(command)), where_(std::move(where)) {
  if (auto problem = start(); !problem.empty()) throw std::runtime_error(problem);
  if (seconds_until_ready(where_, start_up_limit) < 0) {
    const auto how = stop();
    throw std::runtime_error("bankd started by --bankd-cmd was not ready on " + where_.text() +
                             " within 30 s" + (how.empty() ? "" : " (" + how + ")"));
  }
}

bankd_child::~bankd_child() {
  if (pid_ > 0) stop();
}

std::string bankd_child::start() {
  const std::string line = "exec " + command_;
  const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
  // posix_spawn takes char* const[] for historical reasons; it does not write.
  if (const int err = ::posix_spawn(&pid_, "/bin/sh", nullptr, nullptr,
                                    const_cast<char* const*>(argv), environ);
      err != 0) {
    pid_ = -1;
    return std::string("cannot start bankd: ") + std::strerror(err);
  }
  return {};
}

std::string bankd_child::kill() {
  if (pid_ <= 0) return "bankd was not running";
  std::string problem;
  if (const int early = wait_for_exit(pid_, 0ms); early != -1) {
    problem = "bankd had already ended (" + describe_exit(early) + ")";
  } else {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return problem;
}

std::string bankd_child::stop() {
  if (pid_ <= 0) return {};
  ::kill(pid_, SIGTERM);
  int status = wait_for_exit(pid_, stop_grace);
  std::string how;
  if (status == -1) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    how = "did not exit within 15 s of SIGTERM; killed";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    how = "ended with " + describe_exit(status) + " on SIGTERM";
  }
  pid_ = -1;
  return how;
}

}  // namespace bankd::loadtest
