#pragma once
// Lets Catch2 print boost::system::result values in failed assertions: "ok",
// or the error (for db::error: code, message and SQLSTATE).

#include "db/error.hpp"

#include <boost/system/result.hpp>

#include <catch2/catch.hpp>

#include <sstream>

namespace Catch {

template <class T, class E>
struct StringMaker<boost::system::result<T, E>> {
  static std::string convert(const boost::system::result<T, E>& r) {
    if (r.has_value()) return "ok";
    std::ostringstream out;
    out << "error: " << r.error();
    return out.str();
  }
};

}  // namespace Catch
