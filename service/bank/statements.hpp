#pragma once
// Statements that more than one part of the domain runs. The rest live next
// to the one service that runs them.

#include "db/statement.hpp"

#include <boost/describe/class.hpp>

namespace bankd::bank::sql {

// live_users (migration 003) is the one definition of "a user that can act":
// not the funding user 0, not deleted.
inline constexpr db::statement user_exists{"bank.user_exists", R"sql(
SELECT EXISTS (SELECT 1 FROM live_users WHERE id = $1) AS found
)sql"};

struct exists_row {
  bool found;
};
BOOST_DESCRIBE_STRUCT(exists_row, (), (found))

}  // namespace bankd::bank::sql
