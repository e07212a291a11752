#pragma once
// What the tests of holds, reversals and statements share: a bankd with two
// funded customers, request helpers, and the whole-ledger invariants of
// bank-loadtest's verifier (loadtest/ledger_invariants.hpp), so that every
// test ends with the same integrity proof the load test uses.

#include "loadtest/ledger_invariants.hpp"
#include "support/bankd_server.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

namespace bankd::test {

inline std::map<std::string, std::string> key(const std::string& k) { return {{"Idempotency-Key", k}}; }

// Every invariant holds; the violations are the message when one does not.
inline void check_ledger(const std::string& conninfo) {
  const auto found = loadtest::verify_invariants(conninfo);
  std::string evidence;
  for (const auto& v : found) evidence += v.check + ": " + v.evidence + "\n";
  INFO(evidence);
  CHECK(found.empty());
}

struct ledger_world {
  scratch_database db;
  std::unique_ptr<bankd_server> server = std::make_unique<bankd_server>(db.conninfo());
  http_client op = server->operator_client();
  funded_account alice = create_funded_account(op, "EUR", 1000);
  funded_account bob = create_funded_account(op, "EUR", 0);
  http_client as_alice = server->client(alice.api_key);
  http_client as_bob = server->client(bob.api_key);
  pg_session sql{db.conninfo()};

  ~ledger_world() { check_ledger(db.conninfo()); }

  // A hold of `amount` from alice to bob; 201 expected.
  nlohmann::json hold(std::int64_t amount, const std::string& k, std::optional<std::int64_t> timeout = {}) {
    nlohmann::json body{{"from_account_id", alice.account_id}, {"to_account_id", bob.account_id},
                        {"amount", amount}, {"pending", true}};
    if (timeout) body["timeout_seconds"] = *timeout;
    auto reply = as_alice.post("/transfers", body, key(k));
    INFO(reply.body);
    REQUIRE(reply.status == 201);
    return reply.json();
  }
  http_reply settle(http_client& as, std::int64_t id, const std::string& what, const nlohmann::json& body,
                    const std::string& k) {
    return as.post("/transfers/" + std::to_string(id) + "/" + what, body, key(k));
  }
  nlohmann::json account(std::int64_t id) {
    auto reply = op.get("/accounts/" + std::to_string(id));
    REQUIRE(reply.status == 200);
    return reply.json();
  }
  nlohmann::json transfer(std::int64_t id) {
    auto reply = op.get("/transfers/" + std::to_string(id));
    REQUIRE(reply.status == 200);
    return reply.json();
  }
};

}  // namespace bankd::test
