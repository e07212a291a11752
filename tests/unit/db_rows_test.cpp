// Typed rows: results built in memory with libpq's PQsetResultAttrs/PQsetvalue.

#include "db/rows.hpp"

#include <boost/describe/class.hpp>

#include <catch2/catch.hpp>

#include <cstring>

using namespace bankd::db;

namespace {

struct sample_row {
  std::int64_t id;
  std::string name;
  bool open;
  std::optional<std::string> closed_at;
};
BOOST_DESCRIBE_STRUCT(sample_row, (), (id, name, open, closed_at))

// Cells are text; nullptr is SQL NULL.
query_result make_result(const std::vector<const char*>& columns,
                         const std::vector<std::vector<const char*>>& rows) {
  PGresult* res = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<PGresAttDesc> attrs(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    attrs[i] = PGresAttDesc{};
    attrs[i].name = const_cast<char*>(columns[i]);
    attrs[i].format = 0;
  }
  PQsetResultAttrs(res, static_cast<int>(attrs.size()), attrs.data());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const char* v = rows[r][c];
      PQsetvalue(res, static_cast<int>(r), static_cast<int>(c), const_cast<char*>(v),
                 v ? static_cast<int>(std::strlen(v)) : -1);
    }
  return query_result(res);
}

}  // namespace

TEST_CASE("rows: every row is read into the struct, NULL into an optional as nullopt") {
  auto r = make_result({"id", "name", "open", "closed_at"},
                       {{"7", "Ada", "t", nullptr}, {"8", "Bob", "f", "2026-12-01T00:00:00Z"}});
  const auto rows = read_rows<sample_row>(r);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].id == 7);
  CHECK(rows[0].name == "Ada");
  CHECK(rows[0].open);
  CHECK_FALSE(rows[0].closed_at);
  CHECK(rows[1].closed_at == std::optional<std::string>("2026-12-01T00:00:00Z"));
  CHECK(read_row<sample_row>(r, 1).name == "Bob");
  CHECK(read_optional_row<sample_row>(r)->id == 7);
}

TEST_CASE("rows: a result whose columns disagree with the struct is a programming error") {
  SECTION("a column missing") {
    auto r = make_result({"id", "name", "open"}, {{"7", "Ada", "t"}});
    CHECK_THROWS_AS(read_rows<sample_row>(r), std::logic_error);
  }
  SECTION("a column named differently, even with no rows") {
    auto r = make_result({"id", "label", "open", "closed_at"}, {});
    CHECK_THROWS_AS(read_optional_row<sample_row>(r), std::logic_error);
  }
  SECTION("NULL where the struct has no optional") {
    auto r = make_result({"id", "name", "open", "closed_at"}, {{"7", nullptr, "t", nullptr}});
    CHECK_THROWS_AS(read_rows<sample_row>(r), std::logic_error);
  }
  SECTION("text where a number is expected") {
    auto r = make_result({"id", "name", "open", "closed_at"}, {{"x7", "Ada", "t", nullptr}});
    CHECK_THROWS_AS(read_row<sample_row>(r), std::logic_error);
  }
}

TEST_CASE("rows: no row is nullopt, asking for a missing row throws") {
  auto r = make_result({"id", "name", "open", "closed_at"}, {});
  CHECK_FALSE(read_optional_row<sample_row>(r));
  CHECK(read_rows<sample_row>(r).empty());
  CHECK_THROWS_AS(read_row<sample_row>(r), std::logic_error);
}
