#pragma once
// Everything the domain offers on one io_context thread, built once per
// worker by app/ and used by the HTTP side. Not thread-safe: each worker has
// its own, on its own pool.

#include "bank/accounts.hpp"
#include "bank/audit.hpp"
#include "bank/engine.hpp"
#include "bank/events.hpp"
#include "bank/history.hpp"
#include "bank/keys.hpp"
#include "bank/store.hpp"
#include "bank/transfers.hpp"
#include "bank/users.hpp"

#include <string>

namespace bankd::bank {

struct settings {
  std::string operator_key;  // empty: nobody is the operator
  db::retry_policy retries;
  engine_params engine;
};

struct services {
  services(db::connection_pool& pool, const settings& cfg, db::transaction_observer* observer,
           engine_observer* engine_stats = nullptr)
      : db(pool, cfg.retries, observer), engine(db, cfg.engine, engine_stats), keys(db, cfg.operator_key),
        users(db, keys), accounts(db), transfers(db, engine), history(db), events(db), audit(db) {}

  store db;
  transfer_engine engine;
  key_verifier keys;
  user_service users;
  account_service accounts;
  transfer_service transfers;
  history_service history;
  event_feed events;
  audit_service audit;
};

}  // namespace bankd::bank
