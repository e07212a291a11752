#include "support/bankd_process.hpp"

#include "support/bankd_server.hpp"
#include "support/scratch_database.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace bankd::test {
using namespace std::chrono_literals;

std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor probe(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

bankd_process::bankd_process(const std::string& conninfo, std::uint16_t port, options opts) {
  std::vector<std::string> env_strings{"DATABASE_URL=" + serve_conninfo_for(conninfo),
                                       "PORT=" + std::to_string(port),
                                       std::string("BANKD_OPERATOR_KEY=") + operator_key,
                                       "BANKD_LISTEN_ADDRESS=127.0.0.1",
                                       "THREADS=2",
                                       "POOL_SIZE=8",
                                       "LOG_LEVEL=warn",
                                       "BANKD_SHUTDOWN_TIMEOUT_MS=10000"};
  for (auto& extra : opts.env) {
    const auto name = extra.substr(0, extra.find('=') + 1);
    std::erase_if(env_strings, [&](const std::string& e) { return e.starts_with(name); });
    env_strings.push_back(std::move(extra));
  }
  std::vector<char*> env;
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string binary = bankd_binary();
  std::vector<char*> argv{binary.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (opts.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, opts.stderr_fd, STDERR_FILENO);
  const int spawned = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + binary);
}

int bankd_process::stop(int signal) {
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bankd_process::~bankd_process() {
  if (pid_ > 0) stop(SIGKILL);
}

bool wait_ready(std::uint16_t port) {
  for (int i = 0; i < 100; ++i) {
    try {
      if (http_client(port).get("/readyz").status == 200) return true;
    } catch (...) {  // not listening yet
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace bankd::test
