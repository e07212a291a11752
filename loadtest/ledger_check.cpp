#include "loadtest/ledger_check.hpp"

#include "loadtest/ledger_invariants.hpp"
#include "loadtest/pg_reader.hpp"

#include <map>
#include <optional>

namespace bankd::loadtest {

namespace {

constexpr const char* our_balances = R"sql(
SELECT id, balance FROM accounts WHERE id = ANY($1::bigint[])
)sql";

// Keys of this run's requests start with "<run id>-t" (see run_record).
constexpr const char* run_transfers = R"sql(
SELECT idempotency_key, id, from_account_id, to_account_id, amount, initiated_by, kind,
       coalesce(pending_id, reverses_transfer_id, 0)
  FROM transfers WHERE idempotency_key LIKE $1 ORDER BY id
)sql";

// This run's holds and how each ended; the sweeper's lag behind the deadlines.
constexpr const char* run_holds = R"sql(
SELECT count(*), count(*) FILTER (WHERE s.kind = 'post'), count(*) FILTER (WHERE s.kind = 'void'),
       count(*) FILTER (WHERE s.kind = 'expire'), count(*) FILTER (WHERE s.id IS NULL),
       coalesce(round(1000 * max(extract(epoch FROM s.created_at - p.expires_at)) FILTER (WHERE s.kind = 'expire')), 0)
  FROM transfers p LEFT JOIN transfers s ON s.pending_id = p.id
 WHERE p.kind = 'pending' AND p.idempotency_key LIKE $1
)sql";

struct ledger_row {
  std::int64_t id, from, to, amount, initiated_by;
  std::string kind;
  std::int64_t link;  // post, void: the hold; reverse: the original; else 0
};

std::int64_t to_int(const std::string& s) {
  return std::stoll(s);
}

std::string id_array(const run_record& record) {
  std::string out = "{";
  for (const auto& a : record.accounts) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(a.id);
  }
  out.push_back('}');
  return out;
}

// Parses "<run id>-t<seq>"; nullopt for anything else.
std::optional<std::uint64_t> seq_of(const std::string& key, const run_record& record) {
  const auto prefix = record.run_id + "-t";
  if (!key.starts_with(prefix) || key.size() == prefix.size()) return std::nullopt;
  const auto digits = key.substr(prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(digits);
}

std::map<std::uint64_t, ledger_row> read_run_rows(pg_reader& db, const run_record& record,
                                                  ledger_report& report) {
  std::map<std::uint64_t, ledger_row> rows;
  for (const auto& r : db.query(run_transfers, {record.run_id + "-t%"})) {
    ++report.run_rows;
    const auto seq = seq_of(r[0], record);
    if (!seq || *seq >= record.attempts.size()) {
      keep(report.violations, "ledger_unknown_row",
           "transfer " + r[1] + " has key " + r[0] + ", never sent");
      continue;
    }
    const ledger_row row{to_int(r[1]), to_int(r[2]), to_int(r[3]), to_int(r[4]), to_int(r[5]), r[6], to_int(r[7])};
    if (!rows.emplace(*seq, row).second)
      keep(report.violations, "ledger_duplicate",
           "key " + r[0] + " has more than one row (transfer " + r[1] + ")");
  }
  return rows;
}

std::string describe(const attempt& a, const run_record& record) {
  return "key " + record.transfer_key(a.seq) + " (" + std::string(operation_name(a.what)) + " " +
         std::to_string(record.accounts[a.from].id) + " -> " + std::to_string(record.accounts[a.to].id) + ", " +
         std::to_string(a.amount) + ")";
}

void check_committed_row(const attempt& a, const ledger_row& row, const run_record& record,
                         std::vector<violation>& out) {
  const auto& from = record.accounts[a.from];
  const bool linked = a.what == operation::post || a.what == operation::void_hold || a.what == operation::reverse;
  const auto link = linked ? record.attempts[a.target].transfer_id : 0;
  if (row.from != from.id || row.to != record.accounts[a.to].id || row.amount != a.amount ||
      row.initiated_by != from.user_id || row.kind != operation_name(a.what) || row.link != link)
    keep(out, "ledger_row_differs",
         describe(a, record) + " is stored as " + row.kind + " " + std::to_string(row.from) + " -> " +
             std::to_string(row.to) + ", " + std::to_string(row.amount) + ", by user " +
             std::to_string(row.initiated_by) + ", of transfer " + std::to_string(row.link) + " (expected " +
             std::to_string(link) + ")");
  // A post or void answers with the hold it settled, not its own row.
  const bool answered_own_row = a.what != operation::post && a.what != operation::void_hold;
  if (answered_own_row && a.transfer_id != 0 && row.id != a.transfer_id)
    keep(out, "ledger_row_differs",
         describe(a, record) + " was answered as transfer " + std::to_string(a.transfer_id) +
             " but is stored as " + std::to_string(row.id));
}

void check_attempts(const std::map<std::uint64_t, ledger_row>& rows, const run_record& record,
                    ledger_report& report) {
  for (const auto& a : record.attempts) {
    const auto it = rows.find(a.seq);
    if (a.committed()) {
      ++report.expected_rows;
      if (it == rows.end())
        keep(report.violations, "ledger_missing",
             describe(a, record) +
                 (a.first == outcome::acknowledged ? " was answered " + std::to_string(a.status)
                                                   : " was confirmed by a replay") +
                 " but has no ledger row");
      else
        check_committed_row(a, it->second, record, report.violations);
    } else if (!a.certain()) {
      report.unresolved_present += it != rows.end();
    } else if (it != rows.end()) {
      const auto why =
          a.first == outcome::unsent
              ? std::string(" was never sent (connect failed)")
              : " was refused (answer " + std::to_string(a.status) +
                    (a.replay == resolution::not_committed ? ", replay refused too)" : ")");
      keep(report.violations, "ledger_refused_has_row",
           describe(a, record) + why + " but is transfer " + std::to_string(it->second.id));
    }
  }
  if (report.run_rows != report.expected_rows + report.unresolved_present)
    keep(report.violations, "ledger_row_count",
         std::to_string(report.run_rows) + " ledger rows for this run, expected " +
             std::to_string(report.expected_rows) + " acknowledged or resolved + " +
             std::to_string(report.unresolved_present) + " unresolved that committed");
}

// Our accounts: deposit plus this run's ledger credits minus debits, and the
// total per currency against the deposits.
void check_our_accounts(pg_reader& db, const std::map<std::uint64_t, ledger_row>& rows,
                        const run_record& record, std::vector<violation>& out) {
  const auto index = record.index_by_id();
  std::vector<std::int64_t> expected;
  for (const auto& a : record.accounts) expected.push_back(a.deposit);
  for (const auto& [seq, row] : rows) {
    if (!moves_money(record.attempts[seq].what)) continue;
    const auto from = index.find(row.from), to = index.find(row.to);
    if (from != index.end()) expected[from->second] -= row.amount;
    if (to != index.end()) expected[to->second] += row.amount;
  }
  std::map<std::string, std::int64_t> totals;
  for (const auto& r : db.query(our_balances, {id_array(record)})) {
    const auto i = index.at(to_int(r[0]));
    const auto balance = to_int(r[1]);
    totals[record.accounts[i].currency] += balance;
    if (balance != expected[i])
      keep(out, "ledger_account",
           "account " + r[0] + " holds " + r[1] + "; deposit " +
               std::to_string(record.accounts[i].deposit) + " + this run's ledger gives " +
               std::to_string(expected[i]));
  }
  for (const auto& [currency, start] : record.start_totals())
    if (totals[currency] != start)
      keep(out, "ledger_total",
           currency + ": our accounts hold " + std::to_string(totals[currency]) +
               ", started with " + std::to_string(start));
}

}  // namespace

ledger_report verify_ledger(const std::string& database_url, const run_record& record) {
  pg_reader db(database_url);
  ledger_report report;
  check_invariants(db, report.violations);
  const auto rows = read_run_rows(db, record, report);
  check_attempts(rows, record, report);
  check_our_accounts(db, rows, record, report.violations);
  const auto holds = db.query(run_holds, {record.run_id + "-t%"}).at(0);
  report.holds = {to_int(holds[0]), to_int(holds[1]), to_int(holds[2]), to_int(holds[3]), to_int(holds[4]),
                  to_int(holds[5])};
  return report;
}

}  // namespace bankd::loadtest
