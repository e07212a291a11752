#include "loadtest/setup.hpp"

#include "loadtest/bank_api.hpp"
#include "loadtest/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace bankd::loadtest {
namespace net = boost::asio;
using boost::beast::http::verb;
using nlohmann::json;

namespace {

constexpr int max_tries = 8;
constexpr std::size_t max_setup_connections = 16;

bool worth_retrying(const reply_result& r) {
  return !r || r->status >= 500;
}

net::awaitable<void> pause(int attempt) {
  net::steady_timer timer(co_await net::this_coro::executor,
                          std::chrono::milliseconds(50 << attempt));
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

[[noreturn]] void fail(const std::string& what, const reply_result& r) {
  throw std::runtime_error(
      what + " failed: " +
      (r ? std::to_string(r->status) + " " + r->body.substr(0, 300) : r.error().code.message()));
}

// POSTs a body the operator sends, retrying unknown outcomes; `make_body`
// gets the attempt number so that non-idempotent creations can vary it.
template <class MakeBody>
net::awaitable<json> post_created(http_connection& conn, const options& o,
                                  const std::string& target, MakeBody make_body,
                                  const std::string& key, const std::string& what) {
  reply_result r = exec_failure{};
  for (int attempt = 0; attempt < max_tries; ++attempt) {
    if (attempt > 0) co_await pause(attempt);
    const auto body = make_body(attempt);
    r = co_await conn.exec(verb::post, target, {body, o.operator_key, key}, o.request_timeout);
    if (!worth_retrying(r)) break;
  }
  if (!r || r->status != 201) fail(what, r);
  co_return json::parse(r->body);
}

net::awaitable<void> create_owner_and_account(http_connection& conn, run_record& record,
                                              const options& o, std::size_t i) {
  auto& a = record.accounts[i];
  const auto name = "loadtest " + record.run_id + " " + std::to_string(i);
  const auto user = co_await post_created(
      conn, o, "/users",
      [&](int attempt) {
        return json{{"name", name},
                    {"email", record.run_id + "-" + std::to_string(i) + "-" +
                                  std::to_string(attempt) + "@loadtest.invalid"}}
            .dump();
      },
      {}, "creating user " + std::to_string(i));
  a.user_id = user.at("id").get<std::int64_t>();
  a.api_key = user.at("api_key").get<std::string>();
  const auto account = co_await post_created(
      conn, o, "/accounts",
      [&](int) {
        return json{{"currency", a.currency}, {"user_id", a.user_id}}.dump();
      },
      {}, "opening an account for user " + std::to_string(a.user_id));
  a.id = account.at("id").get<std::int64_t>();
}

net::awaitable<void> create_all(http_connection& conn, run_record& record, const options& o,
                                std::size_t& next) {
  while (next < record.accounts.size()) co_await create_owner_and_account(conn, record, o, next++);
}

}  // namespace

net::awaitable<void> set_up_accounts(const std::vector<http_connection*>& conns, run_record& record,
                                     const options& o) {
  record.accounts.assign(o.accounts, account{});
  for (std::size_t i = 0; i < o.accounts; ++i) {
    record.accounts[i].currency = o.currencies[i % o.currencies.size()];
    record.accounts[i].deposit = o.deposit;
  }
  std::size_t next = 0;
  task_group creators(co_await net::this_coro::executor);
  for (std::size_t w = 0; w < std::min(conns.size(), max_setup_connections); ++w)
    creators.spawn(create_all(*conns[w], record, o, next));
  co_await creators.wait();

  // One at a time: every deposit updates its currency's funding account, so
  // concurrent deposits would only fight over that row.
  for (std::size_t i = 0; i < record.accounts.size(); ++i) {
    const auto& a = record.accounts[i];
    const auto body = json{{"amount", a.deposit}}.dump();
    co_await post_created(
        *conns[0], o, "/accounts/" + std::to_string(a.id) + "/deposits", [&](int) { return body; },
        record.deposit_key(i), "depositing into account " + std::to_string(a.id));
  }
}

void write_accounts_csv(const std::string& path, const run_record& record) {
  std::ofstream out(path);
  out << "account_id,user_id,currency,api_key\n";
  for (const auto& a : record.accounts)
    out << a.id << ',' << a.user_id << ',' << a.currency << ',' << a.api_key << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace bankd::loadtest
