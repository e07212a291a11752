#pragma once
// GET /healthz (the process answers), GET /readyz (a database round trip
// succeeds) and GET /metrics (Prometheus text format).

#include "app/api.hpp"
#include "db/pool.hpp"

namespace bankd::app {


void add_health_routes(api& routes, db::connection_pool& pool, const metrics::registry& stats);

}  // namespace bankd::app
