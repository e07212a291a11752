#pragma once
// The subcommands of the bankd executable; each returns the process exit code.

#include "app/config.hpp"

namespace bankd::app {

int run_serve(const config& cfg);
int run_migrate(const config& cfg);
// Exit 0 when GET http://127.0.0.1:<port>/healthz answers 200 within 2 s. For
// container health checks, where no curl is installed.
int run_healthcheck(const config& cfg);

}  // namespace bankd::app
