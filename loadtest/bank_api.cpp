#include "loadtest/bank_api.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace bankd::loadtest {
namespace net = boost::asio;
using boost::beast::http::verb;
using nlohmann::json;

namespace {

std::string ids_json(const run_record& record) {
  std::string out = R"({"account_ids":[)";
  for (std::size_t i = 0; i < record.accounts.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(record.accounts[i].id);
  }
  return out + "]}";
}

transfer_answer classify_created(const reply& r, const account& from, const account& to,
                                 std::int64_t amount, bool fresh) {
  transfer_answer a{outcome::acknowledged, 0, "201", {}};
  const auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.value("id", json()).is_number_integer()) {
    a.anomaly = "201 without a transfer id: " + r.body.substr(0, 200);
    return a;
  }
  a.transfer_id = body["id"].get<std::int64_t>();
  if (body.value("from_account_id", std::int64_t{0}) != from.id ||
      body.value("to_account_id", std::int64_t{0}) != to.id ||
      body.value("amount", std::int64_t{0}) != amount)
    a.anomaly = "201 for a different transfer than requested: " + r.body.substr(0, 200);
  else if (fresh && r.replayed)
    a.anomaly = "201 marked Idempotent-Replayed for a key never sent before (transfer " +
                std::to_string(a.transfer_id) + ")";
  return a;
}

}  // namespace

std::string transfer_body(std::int64_t from_id, std::int64_t to_id, std::int64_t amount) {
  return R"({"from_account_id":)" + std::to_string(from_id) + R"(,"to_account_id":)" +
         std::to_string(to_id) + R"(,"amount":)" + std::to_string(amount) + "}";
}

std::string error_code_of(const reply& r) {
  const auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return "";
  const auto error = body.value("error", json::object());
  return error.is_object() ? error.value("code", std::string()) : "";
}

transfer_answer classify_transfer(const reply_result& answer, const account& from,
                                  const account& to, std::int64_t amount, bool fresh) {
  if (!answer) {
    if (!answer.error().sent) return {outcome::unsent, 0, "connect failed", {}};
    const auto& code = answer.error().code;
    const char* label = code == boost::beast::error::timeout    ? "timeout"
                        : code == net::error::operation_aborted ? "hung up after sending"
                                                                : "connection error";
    return {outcome::ambiguous, 0, label, {}};
  }
  const auto& r = *answer;
  if (r.status == 201) return classify_created(r, from, to, amount, fresh);
  auto label = std::to_string(r.status);
  if (const auto code = error_code_of(r); !code.empty()) label += " " + code;
  if (r.status >= 400 && r.status < 500) return {outcome::refused, 0, label, {}};
  if (r.status >= 500) return {outcome::ambiguous, 0, label, {}};
  return {outcome::ambiguous, 0, label,
          "unexpected status " + std::to_string(r.status) + " for a transfer"};
}

net::awaitable<reply_result> send_transfer(http_connection& conn, const run_record& record,
                                           const attempt& a, std::chrono::milliseconds timeout,
                                           after_write then) {
  const auto& from = record.accounts[a.from];
  const auto body = transfer_body(from.id, record.accounts[a.to].id, a.amount);
  const auto key = record.transfer_key(a.seq);
  const request_parts parts{body, from.api_key, key};
  co_return co_await conn.exec(verb::post, "/transfers", parts, timeout, then);
}

net::awaitable<reply_result> send_batch(http_connection& conn, const run_record& record,
                                        const std::vector<const attempt*>& items,
                                        std::chrono::milliseconds timeout) {
  std::string body = R"({"transfers":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& a = *items[i];
    if (i > 0) body.push_back(',');
    body += R"({"from_account_id":)" + std::to_string(record.accounts[a.from].id) + R"(,"to_account_id":)" +
            std::to_string(record.accounts[a.to].id) + R"(,"amount":)" + std::to_string(a.amount) +
            R"(,"idempotency_key":")" + record.transfer_key(a.seq) + R"("})";
  }
  body += "]}";
  const request_parts parts{body, record.accounts[items.front()->from].api_key, {}};
  co_return co_await conn.exec(verb::post, "/transfers/batch", parts, timeout);
}

std::vector<transfer_answer> classify_batch(const reply_result& answer, const run_record& record,
                                            const std::vector<const attempt*>& items) {
  const auto as_single = [&](const reply_result& r) {
    std::vector<transfer_answer> out;
    for (const auto* a : items)
      out.push_back(classify_transfer(r, record.accounts[a->from], record.accounts[a->to], a->amount, true));
    return out;
  };
  if (!answer || answer->status != 200) return as_single(answer);
  const auto body = json::parse(answer->body, nullptr, false);
  const auto results = body.is_object() ? body.value("results", json()) : json();
  if (!results.is_array() || results.size() != items.size()) {
    auto out = as_single(answer);
    for (auto& a : out) a.anomaly = "a batch answer without one result per item: " + answer->body.substr(0, 200);
    return out;
  }
  std::vector<transfer_answer> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& r = results[i];
    reply item;
    item.status = r.value("status", 0u);
    item.replayed = r.value("replayed", false);
    item.body = item.status == 201 ? r.value("transfer", json::object()).dump()
                                   : json{{"error", r.value("error", json::object())}}.dump();
    const auto* a = items[i];
    out.push_back(classify_transfer(reply_result(item), record.accounts[a->from], record.accounts[a->to], a->amount,
                                    true));
  }
  return out;
}

std::optional<audit_reading> parse_audit(const std::string& body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    audit_reading out;
    for (const auto& a : j.at("accounts"))
      out.accounts.push_back({a.at("id").get<std::int64_t>(), a.at("currency").get<std::string>(),
                              a.at("balance").get<std::int64_t>(),
                              a.at("kind").get<std::string>()});
    for (const auto& t : j.at("totals"))
      out.totals.push_back(
          {t.at("currency").get<std::string>(), t.at("customer_total").get<std::int64_t>(),
           t.at("funding_balance").get<std::int64_t>(), t.at("sum").get<std::int64_t>()});
    return out;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

net::awaitable<boost::system::result<audit_reading, std::string>> read_audit(
    http_connection& conn, const run_record& record, const std::string& operator_key,
    std::chrono::milliseconds timeout) {
  const auto body = ids_json(record);
  auto answer =
      co_await conn.exec(verb::post, "/audit/balances", {body, operator_key, {}}, timeout);
  if (!answer) co_return answer.error().code.message();
  if (answer->status != 200)
    co_return "audit answered " + std::to_string(answer->status) + " " + error_code_of(*answer);
  auto reading = parse_audit(answer->body);
  if (!reading) co_return std::string("audit answer is not the documented JSON");
  co_return std::move(*reading);
}

double sum_counter(std::string_view exposition, std::string_view name) {
  double sum = 0;
  while (!exposition.empty()) {
    const auto end = exposition.find('\n');
    const auto line = exposition.substr(0, end);
    exposition = end == std::string_view::npos ? std::string_view{} : exposition.substr(end + 1);
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;  // another metric sharing the prefix
    // The value follows the labels (which may hold spaces); strtod stops
    // before an optional timestamp.
    const auto value_at = next == '{' ? line.rfind('}') + 1 : name.size();
    sum += std::strtod(std::string(line.substr(value_at)).c_str(), nullptr);
  }
  return sum;
}

net::awaitable<std::optional<double>> scrape_counter(http_connection& conn, std::string_view name,
                                                     std::chrono::milliseconds timeout) {
  auto answer = co_await conn.exec(verb::get, "/metrics", {}, timeout);
  if (!answer || answer->status != 200) co_return std::nullopt;
  co_return sum_counter(answer->body, name);
}

}  // namespace bankd::loadtest
