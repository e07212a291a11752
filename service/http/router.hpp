#pragma once
// Maps (method, path) to a handler. Patterns are literal segments and {name}
// parameters: "/users/{id}/accounts". Matching is plain code with no I/O, so
// unit tests drive it directly. A path that matches a pattern under another
// method gives 405 (with Allow), one that matches nothing gives 404.

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bankd::http {

class path_params {
public:
  void add(std::string_view name, std::string_view value) { items_.emplace_back(name, value); }
  // Empty when the route has no such parameter.
  std::string_view get(std::string_view name) const noexcept;

private:
  std::vector<std::pair<std::string_view, std::string_view>> items_;
};

template <class Handler>
class router {
public:
  struct match {
    const Handler* handler = nullptr;  // null: see allowed / route
    std::string_view route;            // the pattern, for logs and metrics labels
    path_params params;
    std::string allowed;               // "GET, POST" when the path exists under other methods
  };

  void add(boost::beast::http::verb method, std::string pattern, Handler handler) {
    std::vector<std::string> segments;
    for (const auto segment : split(pattern)) segments.emplace_back(segment);
    routes_.push_back({method, std::move(segments), std::move(pattern), std::move(handler)});
  }

  // `path` has no query string; its parameters point into `path`.
  match find(boost::beast::http::verb method, std::string_view path) const {
    match result;
    const auto segments = split(path);
    for (const auto& r : routes_) {
      path_params params;
      if (!matches(r.segments, segments, params)) continue;
      if (r.method == method) {
        result.handler = &r.handler;
        result.route = r.pattern;
        result.params = std::move(params);
        return result;
      }
      if (!result.allowed.empty()) result.allowed += ", ";
      result.allowed += std::string(boost::beast::http::to_string(r.method));
      result.route = r.pattern;
    }
    return result;
  }

private:
  struct route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;
    std::string pattern;
    Handler handler;
  };

  static std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= path.size()) {
      const auto slash = path.find('/', start);
      const auto end = slash == std::string_view::npos ? path.size() : slash;
      if (end > start) out.push_back(path.substr(start, end - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return out;
  }

  static bool matches(const std::vector<std::string>& pattern,
                      const std::vector<std::string_view>& path, path_params& params) {
    if (pattern.size() != path.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const std::string_view p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}')
        params.add(p.substr(1, p.size() - 2), path[i]);
      else if (p != path[i])
        return false;
    }
    return true;
  }

  std::vector<route> routes_;
};

inline std::string_view path_params::get(std::string_view name) const noexcept {
  for (const auto& [key, value] : items_)
    if (key == name) return value;
  return {};
}

}  // namespace bankd::http
