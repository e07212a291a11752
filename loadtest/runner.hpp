#pragma once
// A whole bank-loadtest run: set up and fund the accounts, run the load with
// audits alongside, replay the ambiguous requests, check every invariant, and
// report.

#include "loadtest/options.hpp"
#include "loadtest/report.hpp"
#include "loadtest/run_record.hpp"

#include <iostream>

namespace bankd::loadtest {

struct run_result {
  run_report report;
  run_record record;  // kept so checks can be re-run (verify_ledger)
};

// Runs on the calling thread, with its own io_context; progress lines go to
// `progress_out`. Writes --json, --plot and --accounts-file when asked.
// Throws when the run cannot start (setup refused, bankd unreachable) or a
// file cannot be written; integrity failures are in the report instead.
run_result run(const options& o, std::ostream& progress_out = std::cerr);

}  // namespace bankd::loadtest
