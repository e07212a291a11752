#pragma once
// Records the HTTP exchanges of the integration tests for the contract check
// (tests/contract/check_exchanges.mjs), which holds every response against
// docs/openapi.yaml after the tests ran.
//
// Off unless BANKD_CONTRACT_RECORD_DIR names a directory (ctest sets it for
// the integration tests). Each process appends JSON lines to a file of its
// own there, so tests running at once never share a file. Thread-safe.

#include <map>
#include <string>

namespace bankd::test {

struct exchange {
  std::string method;
  std::string target;
  std::map<std::string, std::string> request_headers;   // lower-case names
  unsigned status = 0;
  std::map<std::string, std::string> response_headers;  // lower-case names
  const std::string* body = nullptr;  // the response body
};

void record_exchange(const exchange& e);

}  // namespace bankd::test
