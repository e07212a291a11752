#pragma once
// Everything the domain offers on one io_context thread, built once per
// worker by app/ and used by the HTTP side. Not thread-safe: each worker has
// its own, on its own pool.

#include "bank/accounts.hpp"
#include "bank/audit.hpp"
#include "bank/auth_limiter.hpp"
#include "bank/currencies.hpp"
#include "bank/engine.hpp"
#include "bank/events.hpp"
#include "bank/history.hpp"
#include "bank/keys.hpp"
#include "bank/store.hpp"
#include "bank/transfers.hpp"
#include "bank/users.hpp"
#include "bank/webhooks.hpp"

#include <string>
#include <vector>

namespace bankd::bank {

struct settings {
  std::vector<std::string> operator_keys;  // empty: nobody is the operator
  db::retry_policy retries;
  // Shared by all threads, owned by app/; may be null (no limit, any currency).
  auth_limiter* limiter = nullptr;
  key_cache* keys_cache = nullptr;  // shared by all threads, owned by app/; required
  const currency_list* currencies = nullptr;
  const util::host_allowlist* webhook_allow = nullptr;  // null: no webhook can be registered
  std::size_t max_open_accounts_per_user = 100;
  engine_params engine;
};

struct services {
  services(db::connection_pool& pool, const settings& cfg, db::transaction_observer* observer,
           engine_observer* engine_stats = nullptr)
      : db(pool, cfg.retries, observer), engine(db, cfg.engine, engine_stats),
        keys(db, cfg.operator_keys, cfg.limiter, *cfg.keys_cache), api_keys(db, keys), users(db, keys),
        accounts(db, {cfg.currencies, cfg.max_open_accounts_per_user}), transfers(db, engine), history(db),
        events(db), webhooks(db, cfg.webhook_allow), audit(db), currencies(cfg.currencies) {}

  store db;
  transfer_engine engine;
  key_verifier keys;
  key_service api_keys;
  user_service users;
  account_service accounts;
  transfer_service transfers;
  history_service history;
  event_feed events;
  webhook_service webhooks;
  audit_service audit;
  const currency_list* currencies;  // may be null
};

}  // namespace bankd::bank
