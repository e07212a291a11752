// A server that takes no writes: a connection whose server turns read-only is
// no longer usable, a write it refuses is errc::read_only (not a server
// error), and a read-only server is not connected to at all.

#include "db/connection.hpp"
#include "support/async_run.hpp"
#include "support/pg_session.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

using namespace bankd;
using namespace std::chrono_literals;
namespace net = boost::asio;
using test::run_async;

namespace {

constexpr db::statement turn_read_only{
    "test.read_only", "SELECT set_config('default_transaction_read_only', 'on', false)"};
constexpr db::statement insert_account{
    "test.insert_account",
    "INSERT INTO accounts (user_id, currency, balance) VALUES (0, 'EUR', 0) RETURNING id"};

db::result<std::unique_ptr<db::connection>> connect(net::io_context& ioc, const std::string& conninfo,
                                                    bool require_writable = true) {
  db::connect_params params{.conninfo = conninfo, .require_writable = require_writable};
  return run_async(ioc, db::connection::connect(params, {}, db::clock::now() + 5s));
}

}  // namespace

TEST_CASE("a connection whose server turns read-only is discarded, and its refusal is read_only") {
  test::scratch_database scratch;
  net::io_context ioc;
  auto conn = connect(ioc, scratch.conninfo());
  REQUIRE(conn);
  REQUIRE((*conn)->is_usable());
  CHECK_FALSE((*conn)->server_read_only());

  db::batch turn;
  turn.add(turn_read_only);
  REQUIRE(run_async(ioc, (*conn)->execute(turn, {}, db::clock::now() + 5s)));
  // Reported by the server with the answer: no query needed to notice.
  CHECK((*conn)->server_read_only());
  CHECK_FALSE((*conn)->is_usable());

  db::batch write;
  write.add(insert_account);
  auto refused = run_async(
      ioc, (*conn)->execute(write, {.begin = db::isolation::serializable, .commit = true},
                            db::clock::now() + 5s));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == db::errc::read_only);
  CHECK(refused.error().sqlstate == "25006");
}

TEST_CASE("a database that is read-only by default is refused at connect") {
  test::scratch_database scratch;
  test::pg_session admin(test::admin_conninfo());
  admin.exec("ALTER DATABASE \"" + scratch.name() + "\" SET default_transaction_read_only = on");
  net::io_context ioc;
  auto refused = connect(ioc, scratch.conninfo());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == db::errc::unavailable);
  CHECK_THAT(refused.error().message, Catch::Contains("takes no writes"));

  auto reader = connect(ioc, scratch.conninfo(), false);  // for a reader that wants no writes
  REQUIRE(reader);
  CHECK((*reader)->server_read_only());
  CHECK((*reader)->is_usable());
}
