#pragma once
// Reading result rows into structs.
//
// A statement's result shape is declared once, as a struct described with
// Boost.Describe; its members, in order, are the statement's columns, and
// their names must be the column names (use AS in the SQL):
//
//   struct account_row { std::int64_t id; std::string currency; std::optional<std::string> closed_at; };
//   BOOST_DESCRIBE_STRUCT(account_row, (), (id, currency, closed_at))
//   for (const account_row& a : db::read_rows<account_row>(result)) ...
//
// Members of described bases come first. Member types: std::int64_t, bool, std::string, and std::optional of them
// (NULL reads as nullopt; a NULL into a non-optional member throws).
// A result whose columns do not match the struct, by count or by name, throws
// std::logic_error: the SQL and the code disagree, a programming error that
// the first test to run the statement finds.

#include "db/query_result.hpp"

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bankd::db {

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
void read_cell(const query_result& r, int row, int col, T& out) {
  if constexpr (is_optional<T>::value) {
    if (r.is_null(row, col)) {
      out.reset();
    } else {
      typename T::value_type value{};
      read_cell(r, row, col, value);
      out = std::move(value);
    }
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    out = r.int64(row, col);
  } else if constexpr (std::is_same_v<T, bool>) {
    out = r.boolean(row, col);
  } else if constexpr (std::is_same_v<T, std::string>) {
    out = std::string(r.text(row, col));
  } else {
    static_assert(sizeof(T) == 0, "db::read_rows: unsupported member type");
  }
}

// Throws unless the result's columns are exactly T's members, in order.
void check_columns(const query_result& r, const std::vector<std::string_view>& members,
                   std::string_view type_name);

template <class T>
const std::vector<std::string_view>& member_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    using members = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;
    boost::mp11::mp_for_each<members>([&](auto m) { out.emplace_back(m.name); });
    return out;
  }();
  return names;
}

}  // namespace detail

// Row `row` of `r` as a T; the columns are checked against T on every call.
template <class T>
T read_row(const query_result& r, int row = 0) {
  detail::check_columns(r, detail::member_names<T>(), typeid(T).name());
  if (row < 0 || row >= r.rows()) throw std::logic_error("db::read_row: no such row");
  T out{};
  int col = 0;
  using members = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;
  boost::mp11::mp_for_each<members>([&](auto m) { detail::read_cell(r, row, col++, out.*m.pointer); });
  return out;
}

// Every row of `r`; an empty result (no rows) still has its columns checked.
template <class T>
std::vector<T> read_rows(const query_result& r) {
  detail::check_columns(r, detail::member_names<T>(), typeid(T).name());
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  using members = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;
  for (int row = 0; row < r.rows(); ++row) {
    T item{};
    int col = 0;
    boost::mp11::mp_for_each<members>([&](auto m) { detail::read_cell(r, row, col++, item.*m.pointer); });
    out.push_back(std::move(item));
  }
  return out;
}

// The first row, or nullopt when there is none.
template <class T>
std::optional<T> read_optional_row(const query_result& r) {
  if (r.rows() == 0) {
    detail::check_columns(r, detail::member_names<T>(), typeid(T).name());
    return std::nullopt;
  }
  return read_row<T>(r, 0);
}

}  // namespace bankd::db
