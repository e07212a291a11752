#include "api/json_output.hpp"

namespace bankd::api {
using nlohmann::json;

namespace {
json text_or_null(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }

// JSON bankd stored (jsonb as text), or null.
json stored_json(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  auto parsed = json::parse(*text, nullptr, false);
  return parsed.is_discarded() ? json(nullptr) : parsed;
}

template <class T>
void set_if(json& out, const char* name, const std::optional<T>& value) {
  if (value) out[name] = *value;
}
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
           {"held", a.held},
           {"available", a.balance - a.held},
           {"status", a.closed_at ? "closed" : "open"},
           {"metadata", stored_json(a.metadata)},
           {"created_at", a.created_at}};
  if (a.closed_at) out["closed_at"] = *a.closed_at;
  if (a.frozen_at) out["frozen_at"] = *a.frozen_at;
  return out;
}

json api_key_json(const bank::api_key& k) {
  return {{"id", k.id}, {"name", k.name}, {"created_at", k.created_at}, {"last_used_at", text_or_null(k.last_used_at)}};
}

json webhook_json(const bank::webhook& w) {
  return {{"id", w.id},
          {"url", w.url},
          {"events", w.events()},
          {"description", w.description},
          {"status", w.status},
          {"created_at", w.created_at},
          {"delivered_through", w.delivered_through},
          {"consecutive_failures", w.consecutive_failures},
          {"failing_since", text_or_null(w.failing_since)},
          {"next_attempt_at", text_or_null(w.next_attempt_at)},
          {"last_error", text_or_null(w.last_error)},
          {"disabled_at", text_or_null(w.disabled_at)},
          {"previous_secret_expires_at", text_or_null(w.previous_secret_expires_at)}};
}

json webhook_json(const bank::webhook_with_secret& w) {
  auto out = webhook_json(w.endpoint);
  out["secret"] = w.secret;
  return out;
}

json transfer_json(const bank::transfer& t) {
  json out{{"id", t.id},
           {"kind", t.kind},
           {"status", t.status},
           {"from_account_id", t.from_account_id},
           {"to_account_id", t.to_account_id},
           {"currency", t.currency},
           {"amount", t.amount},
           {"reference", text_or_null(t.reference)},
           {"metadata", stored_json(t.metadata)},
           {"created_at", t.created_at}};
  set_if(out, "expires_at", t.expires_at);
  set_if(out, "held_amount", t.held_amount);
  set_if(out, "posted_amount", t.posted_amount);
  set_if(out, "settled_by", t.settled_by);
  set_if(out, "settled_at", t.settled_at);
  set_if(out, "pending_id", t.pending_id);
  set_if(out, "reverses_transfer_id", t.reverses_transfer_id);
  set_if(out, "reversed_amount", t.reversed_amount);
  if (t.reversed_amount) out["reversals"] = t.reversals ? stored_json(t.reversals) : json::array();
  return out;
}

json history_json(const bank::history_entry& t) {
  auto out = transfer_json(t);
  out["direction"] = t.direction;
  out["balance_after"] = t.balance_after;
  out["held_after"] = t.held_after;
  out["counterparty"] = {{"account_id", t.counterparty_account_id},
                         {"user_id", t.counterparty_user_id},
                         {"name", t.counterparty_name}};
  return out;
}

json statement_json(const bank::statement& s) {
  json entries = json::array();
  for (const auto& e : s.entries)
    entries.push_back({{"id", e.id},
                       {"created_at", e.created_at},
                       {"kind", e.kind},
                       {"direction", e.direction},
                       {"amount", e.amount},
                       {"balance_after", e.balance_after},
                       {"held_after", e.held_after},
                       {"counterparty_account_id", e.counterparty_account_id},
                       {"reference", text_or_null(e.reference)},
                       {"metadata", stored_json(e.metadata)}});
  return {{"account_id", s.account_id},
          {"currency", s.currency},
          {"from", text_or_null(s.from)},
          {"to", s.to},
          {"opening", {{"balance", s.opening_balance}, {"held", s.opening_held}}},
          {"closing", {{"balance", s.closing_balance}, {"held", s.closing_held}}},
          {"entries", std::move(entries)},
          {"next_after", s.next_after ? json(*s.next_after) : json(nullptr)}};
}

namespace {

// One CSV field: quoted when it holds a separator, a quote or a line break.
void csv_field(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (const char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void csv_row(std::string& out, std::initializer_list<std::string_view> fields) {
  bool first = true;
  for (const auto f : fields) {
    if (!first) out.push_back(',');
    first = false;
    csv_field(out, f);
  }
  out.append("\r\n");
}

}  // namespace

std::string statement_csv(const bank::statement& s) {
  using std::to_string;
  std::string out;
  csv_row(out, {"id", "created_at", "kind", "direction", "amount", "balance_after", "held_after",
                "counterparty_account_id", "reference", "metadata"});
  csv_row(out, {"", s.from.value_or(""), "opening", "", "", to_string(s.opening_balance), to_string(s.opening_held),
                "", "", ""});
  for (const auto& e : s.entries)
    csv_row(out, {to_string(e.id), e.created_at, e.kind, e.direction, to_string(e.amount), to_string(e.balance_after),
                  to_string(e.held_after), to_string(e.counterparty_account_id), e.reference.value_or(""),
                  e.metadata ? stored_json(e.metadata).dump(-1, ' ', false, json::error_handler_t::replace) : std::string()});
  csv_row(out, {"", s.to, "closing", "", "", to_string(s.closing_balance), to_string(s.closing_held), "", "", ""});
  return out;
}

http::response csv_response(std::string body) {
  http::response res{http::status::ok, 11};
  res.set(http::beast_http::field::content_type, "text/csv; charset=utf-8");
  res.set(http::beast_http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace bankd::api
