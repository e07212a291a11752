#include "api/query_params.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <charconv>

namespace bankd::api {

outcome<query_map> query_params(std::string_view query, std::initializer_list<std::string_view> known) {
  query_map out;
  if (query.empty()) return out;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query measures its input
  // with strlen, and the query is a slice of the request's header buffer.
  const std::string text(query);
  if (!boost::urls::parse_query(text)) return invalid("malformed query string");
  for (const auto& param : boost::urls::params_view(text)) {  // validated: does not throw
    if (std::find(known.begin(), known.end(), param.key) == known.end())
      return invalid("unknown query parameter '" + std::string(param.key) + "'");
    if (!out.emplace(param.key, param.value).second)
      return invalid("query parameter '" + std::string(param.key) + "' given twice");
  }
  return out;
}

outcome<std::int64_t> integer_param(const query_map& p, const std::string& name, std::int64_t fallback,
                                    std::int64_t min, std::int64_t max) {
  const auto it = p.find(name);
  if (it == p.end()) return fallback;
  const auto& text = it->second;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < min || n > max)
    return invalid("'" + name + "' must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  return n;
}

outcome<std::int64_t> limit_param(const query_map& p, std::int64_t fallback, std::int64_t max) {
  const auto it = p.find("limit");
  if (it == p.end()) return fallback;
  auto n = integer_param(p, "limit", fallback, 1, max);
  if (!n) return invalid("'limit' must be 1.." + std::to_string(max));
  return n;
}

}  // namespace bankd::api
