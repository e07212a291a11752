#include "util/host_allowlist.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace bankd::util {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

parsed_address parse_http_url(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {std::nullopt, "not an absolute URL"};
  const boost::urls::url_view& u = *parsed;
  if (lower(u.scheme()) != "http") return {std::nullopt, "only http:// URLs are delivered to"};
  if (u.has_userinfo()) return {std::nullopt, "a URL with user info is refused"};
  if (u.has_fragment()) return {std::nullopt, "a URL with a fragment is refused"};
  if (u.host_address().empty()) return {std::nullopt, "the URL has no host"};
  http_address a;
  a.host = lower(u.host_address());
  if (u.has_port()) {
    // port_number() wraps numbers past 16 bits: read the digits.
    const std::string_view digits = u.port();
    unsigned long port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return {std::nullopt, "the URL's port must be 1..65535"};
    a.port = static_cast<std::uint16_t>(port);
  }
  a.target = std::string(u.encoded_path());
  if (a.target.empty()) a.target = "/";
  if (u.has_query()) a.target += "?" + std::string(u.encoded_query());
  a.authority = std::string(u.encoded_authority());
  return {std::move(a), {}};
}

host_allowlist host_allowlist::parse(std::string_view entries) {
  host_allowlist list;
  while (!entries.empty()) {
    const auto comma = entries.find(',');
    const std::string item = trim(entries.substr(0, comma));
    entries = comma == std::string_view::npos ? std::string_view{} : entries.substr(comma + 1);
    if (item.empty()) continue;
    entry e;
    e.suffix = item.starts_with("*.");
    const std::string_view authority = std::string_view(item).substr(e.suffix ? 2 : 0);
    const auto parsed = parse_http_url("http://" + std::string(authority) + "/");
    if (!parsed.address || parsed.address->target != "/")
      throw std::invalid_argument("--webhook-allow: '" + item + "' is not host, host:port or *.domain");
    // Accepted in a URL, so it parses as an authority too.
    const bool has_port = boost::urls::parse_authority(authority)->has_port();
    if (e.suffix && has_port)
      throw std::invalid_argument("--webhook-allow: '" + item + "': a *.domain entry takes no port");
    // A suffix keeps its dot: "x.example.com" ends with ".example.com".
    e.host = e.suffix ? "." + parsed.address->host : parsed.address->host;
    if (has_port) e.port = parsed.address->port;
    list.entries_.push_back(std::move(e));
  }
  return list;
}

bool host_allowlist::allows(const http_address& a) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const entry& e) {
    if (e.suffix) return a.host.size() > e.host.size() && a.host.ends_with(e.host);
    return a.host == e.host && (!e.port || *e.port == a.port);
  });
}

}  // namespace bankd::util
