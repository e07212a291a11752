#include "db/rows.hpp"

namespace bankd::db::detail {

void check_columns(const query_result& r, const std::vector<std::string_view>& members,
                   std::string_view type_name) {
  const auto mismatch = [&](const std::string& what) {
    return std::logic_error("db::read_rows<" + std::string(type_name) + ">: " + what);
  };
  if (r.columns() != static_cast<int>(members.size()))
    throw mismatch("result has " + std::to_string(r.columns()) + " columns, the row type " +
                   std::to_string(members.size()));
  for (int col = 0; col < r.columns(); ++col) {
    const auto name = r.column_name(col);
    if (name != members[static_cast<std::size_t>(col)])
      throw mismatch("column " + std::to_string(col) + " is '" + std::string(name) +
                     "', the member '" + std::string(members[static_cast<std::size_t>(col)]) + "'");
  }
}

}  // namespace bankd::db::detail
