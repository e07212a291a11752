#pragma once
// How the domain's records leave bankd as JSON. One function per record, so
// every endpoint that returns an account returns the same account.

#include "bank/accounts.hpp"
#include "bank/currencies.hpp"
#include "bank/keys.hpp"
#include "bank/records.hpp"

#include <nlohmann/json.hpp>

namespace bankd::api {

nlohmann::json user_json(const bank::user& u);
// `currencies` gives the minor-unit exponent; may be null.
nlohmann::json account_json(const bank::account& a, const bank::currency_list* currencies);
nlohmann::json api_key_json(const bank::api_key& k);
nlohmann::json transfer_json(const bank::transfer& t);
// `account` is the account whose history this is: it decides the direction.
nlohmann::json history_json(const bank::history_entry& t, std::int64_t account);

}  // namespace bankd::api
