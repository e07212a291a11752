#pragma once
// The hosts bankd may send requests to on a user's behalf (webhook
// deliveries): the defence against server-side request forgery, where an
// endpoint URL names a service inside the network. Entries are "host",
// "host:port" or "*.domain" (any name below domain, on any port); names and
// IP literals are compared as written, case-insensitively, so an IP address
// is allowed only when listed as one. An empty list allows nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::util {

// An http:// URL taken apart for a client.
struct http_address {
  std::string host;    // a name, or an IP address without brackets
  std::uint16_t port = 80;
  std::string target;  // path and query, at least "/"
  std::string authority;  // for the Host header
};

// The parts of an absolute http:// URL, or why it is not one bankd calls:
// another scheme, user info, a fragment, no host.
struct parsed_address {
  std::optional<http_address> address;
  std::string refusal;
};
parsed_address parse_http_url(std::string_view url);

class host_allowlist {
 public:
  host_allowlist() = default;
  // Comma-separated entries; throws std::invalid_argument on a malformed one.
  static host_allowlist parse(std::string_view entries);

  bool allows(const http_address& a) const;
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct entry {
    std::string host;  // lower case; for a suffix entry, ".domain"
    bool suffix = false;
    std::optional<std::uint16_t> port;
  };
  std::vector<entry> entries_;
};

}  // namespace bankd::util
