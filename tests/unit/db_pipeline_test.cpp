// Pipeline planning and result matching, driven with synthetic results (no server).

#include "db/pipeline.hpp"
#include "support/catch_result.hpp"

#include <catch2/catch.hpp>

using namespace bankd::db;

namespace {

constexpr statement debit{"test.debit", "UPDATE a SET b = b - $1"};
constexpr statement credit{"test.credit", "UPDATE a SET b = b + $1"};

query_result make(ExecStatusType status) { return query_result(PQmakeEmptyPGresult(nullptr, status)); }

std::vector<slot_kind> kinds(const std::vector<slot>& plan) {
  std::vector<slot_kind> out;
  for (const auto& s : plan) out.push_back(s.kind);
  return out;
}

}  // namespace

TEST_CASE("a transaction plan is BEGIN, prepares once, statements, COMMIT, one sync") {
  batch b;
  b.add(debit).add(credit).add(debit);
  const auto plan = plan_pipeline(b, {isolation::serializable, true}, {});
  using k = slot_kind;
  CHECK(kinds(plan) == std::vector<k>{k::begin, k::prepare, k::statement, k::prepare, k::statement,
                                      k::statement, k::commit, k::sync});
  CHECK(plan[2].index == 0);
  CHECK(plan[4].index == 1);
  CHECK(plan[5].index == 2);
  CHECK(plan[5].stmt == &debit);
}

TEST_CASE("statements prepared earlier on the connection are not prepared again") {
  batch b;
  b.add(debit).add(credit);
  const auto plan = plan_pipeline(b, {}, {&debit, &credit});
  using k = slot_kind;
  CHECK(kinds(plan) == std::vector<k>{k::statement, k::statement, k::sync});
}

TEST_CASE("a successful pipeline collects every statement result") {
  batch b;
  b.add(debit).add(credit);
  const auto plan = plan_pipeline(b, {isolation::serializable, false}, {});
  pipeline_outcome outcome(b.size());
  for (const auto& s : plan)
    outcome.accept(s, make(s.kind == slot_kind::statement ? PGRES_TUPLES_OK
                           : s.kind == slot_kind::sync    ? PGRES_PIPELINE_SYNC
                                                          : PGRES_COMMAND_OK));
  REQUIRE_FALSE(outcome.failed());
  CHECK(outcome.newly_prepared() == std::vector<const statement*>{&debit, &credit});
  auto results = outcome.take();
  CHECK(results.results[0].status() == PGRES_TUPLES_OK);
  CHECK(results.results[1].status() == PGRES_TUPLES_OK);
  CHECK_FALSE(results.committed);
}

TEST_CASE("only a COMMIT answered with the COMMIT tag counts as committed") {
  batch b;
  b.add(debit);
  const auto plan = plan_pipeline(b, {isolation::serializable, true}, {&debit});
  pipeline_outcome outcome(b.size());
  outcome.accept(plan[0], make(PGRES_COMMAND_OK));
  outcome.accept(plan[1], make(PGRES_TUPLES_OK));
  // A synthetic result has an empty command tag, as if COMMIT had answered ROLLBACK.
  outcome.accept(plan[2], make(PGRES_COMMAND_OK));
  outcome.accept(plan[3], make(PGRES_PIPELINE_SYNC));
  REQUIRE(outcome.failed());
  CHECK_FALSE(outcome.committed());
}

TEST_CASE("the first error wins and later aborted slots are skipped") {
  batch b;
  b.add(debit).add(credit);
  const auto plan = plan_pipeline(b, {isolation::serializable, true}, {&debit, &credit});
  pipeline_outcome outcome(b.size());
  REQUIRE(plan.size() == 5);
  outcome.accept(plan[0], make(PGRES_COMMAND_OK));       // BEGIN
  outcome.accept(plan[1], make(PGRES_FATAL_ERROR));      // debit fails
  outcome.accept(plan[2], make(PGRES_PIPELINE_ABORTED)); // credit skipped
  outcome.accept(plan[3], make(PGRES_PIPELINE_ABORTED)); // COMMIT skipped
  outcome.accept(plan[4], make(PGRES_PIPELINE_SYNC));    // end of the aborted pipeline
  REQUIRE(outcome.failed());
  CHECK(outcome.first_error().code == errc::server_error);
  CHECK_FALSE(outcome.committed());
  auto results = outcome.take();
  CHECK_FALSE(results.results[1]);
}

TEST_CASE("a query result where a sync was expected is a protocol error") {
  batch b;
  b.add(debit);
  const auto plan = plan_pipeline(b, {}, {&debit});
  pipeline_outcome outcome(b.size());
  outcome.accept(plan[1], make(PGRES_TUPLES_OK));
  REQUIRE(outcome.failed());
  CHECK(outcome.first_error().code == errc::protocol_error);
}

TEST_CASE("an aborted slot without an earlier error is a protocol error") {
  batch b;
  b.add(debit);
  const auto plan = plan_pipeline(b, {}, {&debit});
  pipeline_outcome outcome(b.size());
  outcome.accept(plan[0], make(PGRES_PIPELINE_ABORTED));
  REQUIRE(outcome.failed());
  CHECK(outcome.first_error().code == errc::protocol_error);
}

TEST_CASE("an error result on a broken connection is a lost connection") {
  const auto err = error_from_result(make(PGRES_FATAL_ERROR), true);
  CHECK(err.code == errc::connection_lost);
  CHECK(error_from_result(make(PGRES_FATAL_ERROR), false).code == errc::server_error);
}

TEST_CASE("failed prepares are not remembered as prepared") {
  batch b;
  b.add(debit);
  const auto plan = plan_pipeline(b, {}, {});
  pipeline_outcome outcome(b.size());
  outcome.accept(plan[0], make(PGRES_FATAL_ERROR));
  outcome.accept(plan[1], make(PGRES_PIPELINE_ABORTED));
  CHECK(outcome.newly_prepared().empty());
}

TEST_CASE("begin statements name the isolation level") {
  CHECK(std::string_view(begin_sql(isolation::serializable)) == "BEGIN ISOLATION LEVEL SERIALIZABLE");
  CHECK(std::string_view(begin_sql(isolation::repeatable_read_read_only)) ==
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

TEST_CASE("params are NUL-terminated text, NULL is a null pointer") {
  params p;
  p.add(std::int64_t{-42}).add("abc").add_null().add(true);
  std::vector<const char*> ptrs;
  p.pointers(ptrs);
  REQUIRE(ptrs.size() == 4);
  CHECK(std::string_view(ptrs[0]) == "-42");
  CHECK(std::string_view(ptrs[1]) == "abc");
  CHECK(ptrs[2] == nullptr);
  CHECK(std::string_view(ptrs[3]) == "true");
  CHECK_THROWS_AS(p.add(std::string_view("a\0b", 3)), std::invalid_argument);
}

TEST_CASE("an advisory-locked transaction takes the lock in a segment of its own before BEGIN, unlocks after COMMIT") {
  batch b;
  b.add(debit);
  tx_frame frame{isolation::serializable, true, 42};
  const auto plan = plan_pipeline(b, frame, {&debit});
  using k = slot_kind;
  CHECK(kinds(plan) == std::vector<k>{k::lock, k::sync, k::begin, k::statement, k::commit, k::sync, k::unlock, k::sync});
  // Durable after unlock: the commit does not wait for the disk, the unlock
  // statement is also the barrier that does.
  tx_frame relaxed{isolation::serializable, true, 42, true};
  CHECK(kinds(plan_pipeline(b, relaxed, {&debit})) ==
        std::vector<k>{k::lock, k::sync, k::begin, k::relax_commit, k::statement, k::commit, k::sync,
                       k::unlock_and_barrier, k::sync});
  // Without both BEGIN and COMMIT in the same pipeline there is no lock.
  CHECK(kinds(plan_pipeline(b, {isolation::serializable, false, 42}, {&debit})) ==
        std::vector<k>{k::begin, k::statement, k::sync});
}

TEST_CASE("a failed lock or unlock is not the batch's failure, the transaction's own results decide") {
  batch b;
  b.add(debit);
  const auto plan = plan_pipeline(b, {isolation::serializable, true, 42}, {&debit});
  pipeline_outcome outcome(b.size());
  for (const auto& s : plan) {
    if (s.kind == slot_kind::lock || s.kind == slot_kind::unlock) {
      outcome.accept(s, make(PGRES_FATAL_ERROR));
      continue;
    }
    outcome.accept(s, make(s.kind == slot_kind::sync ? PGRES_PIPELINE_SYNC : PGRES_COMMAND_OK));
  }
  // A synthetic COMMIT result has no "COMMIT" tag, so the only failure is
  // the transaction's own; the lock's and the unlock's were not recorded.
  REQUIRE(outcome.failed());
  CHECK(outcome.first_error().message == "transaction was rolled back");
}

TEST_CASE("array literals quote and escape every text element and spell NULL") {
  array_literal ids;
  ids.add(std::int64_t{1}).add_null().add(std::int64_t{-7});
  CHECK(ids.text() == "{1,NULL,-7}");
  array_literal texts;
  texts.add(std::string_view("a b")).add(std::string_view("q\"uote")).add(std::string_view("back\\slash"))
      .add(std::optional<std::string>{}).add(std::string_view("NULL")).add(std::string_view(""));
  CHECK(texts.text() == R"({"a b","q\"uote","back\\slash",NULL,"NULL",""})");
  CHECK(array_literal{}.text() == "{}");
}
