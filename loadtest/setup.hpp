#pragma once
// Creates the run's users and accounts through the API with the operator key,
// and funds each account with one deposit of options.deposit.
//
// Unknown outcomes are retried safely: a user whose creation is unknown is
// replaced by a new one (its API key was lost with the answer), an account
// likewise (an orphan stays empty), and a deposit is replayed with its own
// Idempotency-Key. A definite refusal (bad operator key, ...) throws: the run
// cannot start.

#include "loadtest/http_connection.hpp"
#include "loadtest/options.hpp"
#include "loadtest/run_record.hpp"

#include <boost/asio/awaitable.hpp>

#include <vector>

namespace bankd::loadtest {

boost::asio::awaitable<void> set_up_accounts(const std::vector<http_connection*>& conns,
                                             run_record& record, const options& o);

// Writes account_id,user_id,currency,api_key lines, with a header.
void write_accounts_csv(const std::string& path, const run_record& record);

}  // namespace bankd::loadtest
