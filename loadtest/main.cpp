// bank-loadtest: drives bankd with transfers, checks that no money is created
// or lost, and measures throughput and latency. `bank-loadtest --help`.
//
// Exit status: 0 every check held; 1 an invariant was violated (evidence
// printed); 2 bad usage; 3 inconclusive (outcomes left unknown); 4 the run
// could not be carried out.

#include "loadtest/runner.hpp"

#include <exception>
#include <iostream>

int main(int argc, char* argv[]) {
  using namespace bankd::loadtest;
  options o;
  try {
    o = parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "bank-loadtest: " << e.what() << "\n(see bank-loadtest --help)\n";
    return 2;
  }
  if (!o.help_text.empty()) {
    std::cout << o.help_text;
    return 0;
  }
  try {
    const auto result = run(o);
    if (o.setup_only) {
      std::cout << "set up " << result.record.accounts.size() << " accounts; wrote "
                << o.accounts_file << "\n";
      return 0;
    }
    print_table(std::cout, result.report);
    switch (result.report.result) {
      case verdict::ok:
        return 0;
      case verdict::violated:
        return 1;
      case verdict::inconclusive:
        return 3;
    }
  } catch (const std::exception& e) {
    std::cerr << "bank-loadtest: " << e.what() << "\n";
  }
  return 4;
}
