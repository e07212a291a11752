#pragma once
// The parts of bankd's HTTP API the load test speaks (docs/api.md): request
// bodies, what an answer means, and the audit and metrics payloads. Parsing
// is plain code; the send_* coroutines only add the connection.

#include "loadtest/http_connection.hpp"
#include "loadtest/run_record.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::loadtest {

using reply_result = exec_result;

// Always the same bytes for the same transfer, so a replay is recognised.
std::string transfer_body(std::int64_t from_id, std::int64_t to_id, std::int64_t amount);
std::string error_code_of(const reply& r);  // the body's error.code, or ""

// What an answer to a transfer request means.
struct transfer_answer {
  outcome kind = outcome::ambiguous;
  std::int64_t transfer_id = 0;  // for 201
  std::string label;             // "201", "409 insufficient_funds", "timeout", ...
  std::string anomaly;           // non-empty: the answer contradicts the request
};
// `fresh`: the first send of its key, which a 201 must not call a replay.
transfer_answer classify_transfer(const reply_result& answer, const account& from,
                                  const account& to, std::int64_t amount, bool fresh);

boost::asio::awaitable<reply_result> send_transfer(http_connection& conn, const run_record& record,
                                                   const attempt& a,
                                                   std::chrono::milliseconds timeout,
                                                   after_write then = after_write::read_answer);

// POST /transfers/batch with one item per attempt, all debiting the first
// attempt's account (its owner's key; each item its own idempotency key).
boost::asio::awaitable<reply_result> send_batch(http_connection& conn, const run_record& record,
                                                const std::vector<const attempt*>& items,
                                                std::chrono::milliseconds timeout);
// What the answer to a batch means for each item, in order: a 200 carries
// one result per item; anything else means the same for all of them.
std::vector<transfer_answer> classify_batch(const reply_result& answer, const run_record& record,
                                            const std::vector<const attempt*>& items);

// POST /audit/balances: one snapshot of our accounts and of every currency.
struct audit_reading {
  struct balance {
    std::int64_t id = 0;
    std::string currency;
    std::int64_t balance = 0;
    std::string kind;
  };
  struct total {
    std::string currency;
    std::int64_t customer_total = 0;
    std::int64_t funding_balance = 0;
    std::int64_t sum = 0;
  };
  std::vector<balance> accounts;
  std::vector<total> totals;
};
// The reading, or why there is none (an error answer or a malformed body).
boost::asio::awaitable<boost::system::result<audit_reading, std::string>> read_audit(
    http_connection& conn, const run_record& record, const std::string& operator_key,
    std::chrono::milliseconds timeout);
std::optional<audit_reading> parse_audit(const std::string& body);

// The sum of every series of a counter in Prometheus text exposition.
double sum_counter(std::string_view exposition, std::string_view name);
boost::asio::awaitable<std::optional<double>> scrape_counter(http_connection& conn,
                                                             std::string_view name,
                                                             std::chrono::milliseconds timeout);

}  // namespace bankd::loadtest
