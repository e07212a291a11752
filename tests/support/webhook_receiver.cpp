#include "support/webhook_receiver.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>

namespace bankd::test {
namespace bhttp = boost::beast::http;

namespace {

std::string base64(const unsigned char* data, int n) {
  std::string out(static_cast<std::size_t>(4 * ((n + 2) / 3)), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, n);
  return out;
}

// Reads one HTTP request from `fd`; false at end of stream or on an error.
bool read_request(int fd, std::string& pending, bhttp::request<bhttp::string_body>& out) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  for (;;) {
    if (!pending.empty()) {
      boost::system::error_code ec;
      const auto used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec && ec != bhttp::error::need_more) return false;
      if (parser.is_done()) {
        out = parser.release();
        return true;
      }
      if (used > 0) continue;
    }
    char chunk[16384];
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    pending.append(chunk, static_cast<std::size_t>(n));
  }
}

void write_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

bool signature_valid(const std::string& secret, const received_delivery& d) {
  if (secret.rfind("whsec_", 0) != 0) return false;
  const std::string encoded = secret.substr(6);
  std::string key(encoded.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                          reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (n < 0) return false;
  n -= static_cast<int>(std::count(encoded.end() - std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(encoded.size())), encoded.end(), '='));
  key.resize(static_cast<std::size_t>(n));
  const std::string content = std::to_string(d.event_id) + "." + d.timestamp + "." + d.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  const std::string expected = "v1," + base64(mac, static_cast<int>(length));
  std::istringstream entries(d.signature);
  std::string entry;
  while (entries >> entry)
    if (entry == expected) return true;
  return false;
}

webhook_receiver::webhook_receiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("webhook_receiver: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

webhook_receiver::~webhook_receiver() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mutex_);
    for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : handlers_) t.join();
}

void webhook_receiver::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    handlers_.emplace_back([this, fd] { serve(fd); });
  }
}

void webhook_receiver::serve(int fd) {
  std::string pending;
  bhttp::request<bhttp::string_body> req;
  while (!stopping_ && read_request(fd, pending, req)) {
    received_delivery d;
    try {
      d.event_id = std::stoll(std::string(req["webhook-id"]));
    } catch (...) {
      d.event_id = -1;
    }
    d.timestamp = std::string(req["webhook-timestamp"]);
    d.signature = std::string(req["webhook-signature"]);
    d.body = req.body();
    const auto m = mode_.load();
    if (m == mode::hang) {
      { std::lock_guard lock(mutex_); received_.push_back(d); }
      while (!stopping_ && mode_ == mode::hang) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
    d.acknowledged = m == mode::answer;
    { std::lock_guard lock(mutex_); received_.push_back(d); }
    write_all(fd, d.acknowledged ? "HTTP/1.1 204 No Content\r\n\r\n"
                                 : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom");
  }
  std::lock_guard lock(mutex_);
  std::erase(open_fds_, fd);
  ::close(fd);
}

std::vector<received_delivery> webhook_receiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<std::int64_t> webhook_receiver::acknowledged_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> out;
  std::set<std::int64_t> seen;
  for (const auto& d : received_)
    if (d.acknowledged && seen.insert(d.event_id).second) out.push_back(d.event_id);
  return out;
}

}  // namespace bankd::test
