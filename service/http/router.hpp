#pragma once
// Maps (method, path) to a handler. Patterns are literal segments and {name}
// parameters: "/users/{id}/accounts". Matching is plain code with no I/O, so
// unit tests drive it directly. A path that matches a pattern under another
// method gives 405 (with Allow), one that matches nothing gives 404.
//
// Paths are split into segments and percent-decoded by Boost.URL, so
// "/users/%31" names user 1 (RFC 3986 6.2.2.2) and an encoded slash stays
// inside its segment; a path that is not a valid RFC 3986 path matches
// nothing, and so does one with a "." or ".." segment. Empty segments ("//",
// a trailing "/") are skipped.

#include <boost/beast/http/verb.hpp>
#include <boost/url/parse_path.hpp>
#include <boost/url/segments_view.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bankd::http {

class path_params {
public:
  void add(std::string_view name, std::string value) { items_.emplace_back(name, std::move(value)); }
  // Decoded; empty when the route has no such parameter.
  std::string_view get(std::string_view name) const noexcept;

private:
  std::vector<std::pair<std::string_view, std::string>> items_;  // names point into the route table
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
    auto segments = split(pattern);
    routes_.push_back({method, std::move(segments), std::move(pattern), std::move(handler)});
  }

  // `path` has no query string.
  match find(boost::beast::http::verb method, std::string_view path) const {
    match result;
    const auto segments = decoded_segments(path);
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

  static std::vector<std::string> split(std::string_view pattern) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= pattern.size()) {
      const auto slash = pattern.find('/', start);
      const auto end = slash == std::string_view::npos ? pattern.size() : slash;
      if (end > start) out.emplace_back(pattern.substr(start, end - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return out;
  }

  // Nothing for a path that is not a valid absolute RFC 3986 path; no route
  // has zero segments, so that matches nothing.
  static std::vector<std::string> decoded_segments(std::string_view path) {
    std::vector<std::string> out;
    // A NUL-terminated copy: Boost.URL 1.81's parsers measure their input
    // with strlen, and the path is a slice of the request's header buffer.
    const std::string text(path);
    const auto parsed = boost::urls::parse_path(text);
    if (!parsed || !parsed->is_absolute() || has_dot_segment(path)) return out;
    for (std::string segment : boost::urls::segments_view(*parsed)) {
      if (segment == "." || segment == "..") return {};  // %2e%2e, decoded
      if (!segment.empty()) out.push_back(std::move(segment));
    }
    return out;
  }

  // "." and ".." name no resource; Boost.URL would quietly drop a leading
  // "/." (its escape for paths that start with "//").
  static bool has_dot_segment(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
      const auto slash = path.find('/', start);
      const auto piece = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      if (piece == "." || piece == "..") return true;
      if (slash == std::string_view::npos) return false;
      start = slash + 1;
    }
    return false;
  }

  static bool matches(const std::vector<std::string>& pattern,
                      const std::vector<std::string>& path, path_params& params) {
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
