#pragma once
// A webhook receiver on 127.0.0.1 for the delivery tests: records every
// delivery it is sent and answers as told (204, 500, or never). Its own
// signature check uses OpenSSL directly, not bankd's code, so that a wrong
// signing scheme in bankd cannot pass by agreeing with itself.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bankd::test {

struct received_delivery {
  std::int64_t event_id = 0;  // webhook-id
  std::string timestamp;      // webhook-timestamp
  std::string signature;      // webhook-signature
  std::string body;
  bool acknowledged = false;  // answered 2xx
};

// Whether `signature` (the header: space-separated "v1,<base64>") has an
// entry that is the HMAC-SHA256 of "{id}.{timestamp}.{body}" under `secret`.
bool signature_valid(const std::string& secret, const received_delivery& d);

class webhook_receiver {
 public:
  enum class mode { answer, fail, hang };

  webhook_receiver();
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/bank"; }
  void set_mode(mode m) { mode_ = m; }
  std::vector<received_delivery> received() const;
  // The event ids acknowledged, first acknowledgements only, in arrival order.
  std::vector<std::int64_t> acknowledged_ids() const;

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<mode> mode_{mode::answer};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<received_delivery> received_;
  std::vector<int> open_fds_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

}  // namespace bankd::test
