#pragma once
// Query strings of GET endpoints, read strictly: each parameter known, at
// most once, and each value checked before a handler uses it.

#include "api/api_error.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace bankd::api {

using query_map = std::map<std::string, std::string>;

// The query's parameters, percent-decoded; each name at most once and one of `known`.
outcome<query_map> query_params(std::string_view query, std::initializer_list<std::string_view> known);

// `limit`: 1..max, or `fallback` when absent.
outcome<std::int64_t> limit_param(const query_map& p, std::int64_t fallback, std::int64_t max);

// An integer parameter within [min, max], or `fallback` when absent.
outcome<std::int64_t> integer_param(const query_map& p, const std::string& name, std::int64_t fallback,
                                    std::int64_t min, std::int64_t max);

}  // namespace bankd::api
