#pragma once
// GET /healthz (the process answers), GET /readyz (a database round trip
// succeeded within the last second; each worker probes at most once a
// second, whatever the number of probes) and GET /metrics (Prometheus text
// format).

#include "db/pool.hpp"
#include "http/endpoint.hpp"
#include "metrics/registry.hpp"

namespace bankd::api {

void add_health_routes(http::router<http::endpoint>& routes, db::connection_pool& pool,
                       const metrics::registry& stats);

}  // namespace bankd::api
