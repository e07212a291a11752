// bankd: bank-transfer service. See README.md; `bankd --help` lists the options.

#include "app/commands.hpp"
#include "app/config.hpp"

#include <exception>
#include <iostream>

int main(int argc, char* argv[]) {
  using namespace bankd::app;
  try {
    const config cfg = parse_config(argc, argv);
    bankd::log::set_level(cfg.log_level);
    switch (cfg.cmd) {
      case command::help: std::cout << cfg.help_text; return 0;
      case command::version: std::cout << "bankd " << BANKD_VERSION << "\n"; return 0;
      case command::migrate: return run_migrate(cfg);
      case command::healthcheck: return run_healthcheck(cfg);
      case command::serve: return run_serve(cfg);
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "bankd: " << e.what() << "\n(see bankd --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bankd: fatal: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
