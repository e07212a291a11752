#include "support/exchange_log.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>

#include <unistd.h>

namespace bankd::test {

namespace {

// The command line, so that a failed check can name the test that sent it.
std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto& c : raw)
    if (c == '\0') c = ' ';
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  return raw;
}

class exchange_file {
public:
  static exchange_file& instance() {
    static exchange_file file;
    return file;
  }

  bool enabled() const { return out_ != nullptr; }

  void write(const std::string& line) {
    const std::lock_guard lock(mutex_);
    if (std::fputs(line.c_str(), out_.get()) < 0 || std::fflush(out_.get()) != 0)
      throw std::runtime_error("cannot write the exchange log");
  }

private:
  exchange_file() {
    const char* dir = std::getenv("BANKD_CONTRACT_RECORD_DIR");
    if (dir == nullptr || *dir == '\0') return;
    std::filesystem::create_directories(dir);  // emptied by removing it, before the tests
    std::random_device entropy;
    const auto name = std::string(dir) + "/" + std::to_string(::getpid()) + "-" +
                      std::to_string(entropy()) + ".jsonl";
    out_.reset(std::fopen(name.c_str(), "we"));
    if (!out_) throw std::runtime_error("cannot create " + name);
    write(nlohmann::json{{"process", own_command_line()}}.dump() + "\n");
  }

  struct closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, closer> out_;
  std::mutex mutex_;
};

bool is_json(const std::map<std::string, std::string>& headers) {
  const auto it = headers.find("content-type");
  return it != headers.end() && it->second.starts_with("application/json");
}

}  // namespace

void record_exchange(const exchange& e) {
  auto& file = exchange_file::instance();
  if (!file.enabled()) return;
  nlohmann::json line{{"method", e.method},
                      {"target", e.target},
                      {"request_headers", e.request_headers},
                      {"status", e.status},
                      {"headers", e.response_headers},
                      {"body_bytes", e.body->size()}};
  // Only JSON bodies are checked field by field; a 1 MiB page is not kept.
  if (is_json(e.response_headers)) line["body"] = *e.body;
  file.write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace bankd::test
