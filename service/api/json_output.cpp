#include "api/json_output.hpp"

namespace bankd::api {
using nlohmann::json;

namespace {
json text_or_null(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }
}  // namespace

json user_json(const bank::user& u) {
  json out{{"id", u.id}, {"name", u.name}, {"email", u.email}, {"created_at", u.created_at}};
  if (u.frozen_at) out["frozen_at"] = *u.frozen_at;
  return out;
}

json account_json(const bank::account& a, const bank::currency_list* currencies) {
  const auto exponent = currencies != nullptr ? currencies->exponent(a.currency) : std::nullopt;
  json out{{"id", a.id},
           {"user_id", a.user_id},
           {"currency", a.currency},
           {"currency_exponent", exponent ? json(*exponent) : json(nullptr)},
           {"balance", a.balance},
           {"status", a.closed_at ? "closed" : "open"},
           {"created_at", a.created_at}};
  if (a.closed_at) out["closed_at"] = *a.closed_at;
  if (a.frozen_at) out["frozen_at"] = *a.frozen_at;
  return out;
}

json api_key_json(const bank::api_key& k) {
  return {{"id", k.id}, {"name", k.name}, {"created_at", k.created_at}, {"last_used_at", text_or_null(k.last_used_at)}};
}

json transfer_json(const bank::transfer& t) {
  return {{"id", t.id},
          {"from_account_id", t.from_account_id},
          {"to_account_id", t.to_account_id},
          {"currency", t.currency},
          {"amount", t.amount},
          {"reference", text_or_null(t.reference)},
          {"created_at", t.created_at}};
}

json history_json(const bank::history_entry& t, std::int64_t account) {
  return {{"id", t.id},
          {"direction", t.from_account_id == account ? "debit" : "credit"},
          {"from_account_id", t.from_account_id},
          {"to_account_id", t.to_account_id},
          {"currency", t.currency},
          {"amount", t.amount},
          {"reference", text_or_null(t.reference)},
          {"created_at", t.created_at},
          {"counterparty",
           {{"account_id", t.counterparty_account_id},
            {"user_id", t.counterparty_user_id},
            {"name", t.counterparty_name}}}};
}

}  // namespace bankd::api
