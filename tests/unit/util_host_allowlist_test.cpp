#include "util/host_allowlist.hpp"

#include <catch2/catch.hpp>

using bankd::util::host_allowlist;
using bankd::util::parse_http_url;

namespace {

bool allowed(const host_allowlist& list, const std::string& url) {
  const auto parsed = parse_http_url(url);
  return parsed.address && list.allows(*parsed.address);
}

}  // namespace

TEST_CASE("webhook URLs: absolute http:// only, without user info or fragment") {
  const auto ok = parse_http_url("http://Hooks.Example.com:8443/in/bank?x=1");
  REQUIRE(ok.address);
  CHECK(ok.address->host == "hooks.example.com");
  CHECK(ok.address->port == 8443);
  CHECK(ok.address->target == "/in/bank?x=1");
  CHECK(ok.address->authority == "Hooks.Example.com:8443");
  CHECK(parse_http_url("http://h").address->target == "/");
  CHECK(parse_http_url("http://h").address->port == 80);
  CHECK(parse_http_url("http://[::1]:9000/x").address->host == "::1");
  for (const char* bad : {"https://h/x", "ftp://h/x", "http://u:p@h/x", "http://h/x#frag", "h/x", "", "http:///x",
                          "http://h:0/x", "http://h:99999/x"}) {
    INFO(bad);
    CHECK_FALSE(parse_http_url(bad).address);
    CHECK_FALSE(parse_http_url(bad).refusal.empty());
  }
}

TEST_CASE("the webhook allowlist: host, host:port and *.domain entries, empty allows nothing") {
  CHECK_FALSE(allowed(host_allowlist{}, "http://127.0.0.1/x"));
  CHECK(host_allowlist::parse(" , ").empty());

  const auto list = host_allowlist::parse("hooks.example.com, 127.0.0.1:9000,*.partner.test,[::1]");
  CHECK(allowed(list, "http://hooks.example.com/x"));
  CHECK(allowed(list, "http://HOOKS.example.com:81/x"));  // no port in the entry: any port
  CHECK_FALSE(allowed(list, "http://evil-hooks.example.com/x"));
  CHECK_FALSE(allowed(list, "http://hooks.example.com.evil.test/x"));
  CHECK(allowed(list, "http://127.0.0.1:9000/x"));
  CHECK_FALSE(allowed(list, "http://127.0.0.1:9001/x"));
  CHECK_FALSE(allowed(list, "http://127.0.0.1/x"));
  CHECK(allowed(list, "http://a.partner.test/x"));
  CHECK(allowed(list, "http://a.b.partner.test:1234/x"));
  CHECK_FALSE(allowed(list, "http://partner.test/x"));  // below the domain, not the domain
  CHECK_FALSE(allowed(list, "http://apartner.test/x"));
  CHECK(allowed(list, "http://[::1]:8080/x"));
  CHECK_FALSE(allowed(list, "http://169.254.169.254/latest/meta-data"));

  for (const char* bad : {"http://h", "h/path", "*.h:80", "u@h"}) {
    INFO(bad);
    CHECK_THROWS_AS(host_allowlist::parse(bad), std::invalid_argument);
  }
}
