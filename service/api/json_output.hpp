#pragma once
// How the domain's records leave bankd as JSON. One function per record, so
// every endpoint that returns an account returns the same account.

#include "bank/history.hpp"
#include "bank/accounts.hpp"
#include "bank/currencies.hpp"
#include "bank/keys.hpp"
#include "bank/records.hpp"
#include "bank/webhooks.hpp"
#include "http/message.hpp"

#include <nlohmann/json.hpp>

namespace bankd::api {

nlohmann::json user_json(const bank::user& u);
// `currencies` gives the minor-unit exponent; may be null.
nlohmann::json account_json(const bank::account& a, const bank::currency_list* currencies);
nlohmann::json api_key_json(const bank::api_key& k);
nlohmann::json transfer_json(const bank::transfer& t);
// A transfer with the side of it one account's history shows.
nlohmann::json history_json(const bank::history_entry& t);
nlohmann::json statement_json(const bank::statement& s);
// A webhook endpoint; with its secret only in the answers that create one.
nlohmann::json webhook_json(const bank::webhook& w);
nlohmann::json webhook_json(const bank::webhook_with_secret& w);

// The statement as CSV (RFC 4180, a header line): a row "opening", the
// entries, a row "closing".
std::string statement_csv(const bank::statement& s);
// 200, text/csv.
http::response csv_response(std::string body);

}  // namespace bankd::api
