#include "app/commands.hpp"

#include "app/service.hpp"
#include "migrate/migrator.hpp"
#include "util/log.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <iostream>

namespace bankd::app {
namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

std::filesystem::path migrations_dir(const config& cfg) {
  return cfg.migrations_dir.empty() ? migrate::default_directory()
                                    : std::filesystem::path(cfg.migrations_dir);
}

void print_status(const migrate::status_report& report) {
  for (const auto& m : report.applied)
    std::cout << "applied  " << m.version << "  " << m.name << "  " << m.applied_at << "\n";
  for (const auto& m : report.pending)
    std::cout << "pending  " << m.version << "  " << m.name << "\n";
  std::cout << report.applied.size() << " applied, " << report.pending.size() << " pending\n";
}

}  // namespace

int run_migrate(const config& cfg) {
  const auto dir = migrations_dir(cfg);
  try {
    if (cfg.migrate_status) {
      print_status(migrate::status(cfg.database_url, dir));
      return 0;
    }
    const auto applied = migrate::apply_all(cfg.database_url, dir);
    for (const auto& name : applied) log::info("migrate.applied").kv("file", name);
    log::info("migrate.done").kv("applied", applied.size()).kv("dir", dir.string());
    return 0;
  } catch (const migrate::failure& e) {
    log::error("migrate.failed").kv("dir", dir.string()).kv("error", e.what());
    return 1;
  }
}

int run_serve(const config& cfg) {
  if (cfg.migrate_on_start) {
    if (const int rc = run_migrate(cfg); rc != 0) return rc;
  }
  service svc(cfg);
  svc.start();
  svc.run_until_signal();
  return 0;
}

int run_healthcheck(const config& cfg) {
  try {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(2));
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), cfg.port));
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, "/healthz", 11};
    req.set(beast::http::field::host, "127.0.0.1");
    beast::http::write(stream, req);
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(stream, buffer, res);
    return res.result() == beast::http::status::ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "healthcheck failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bankd::app
