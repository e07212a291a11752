#include "loadtest/ledger_invariants.hpp"

namespace bankd::loadtest {

namespace {

constexpr const char* unbalanced_currencies = R"sql(
SELECT currency, sum(balance) FROM accounts
 GROUP BY currency HAVING sum(balance) <> 0 ORDER BY currency
)sql";

constexpr const char* balances_off_ledger = R"sql(
WITH moves AS (SELECT * FROM transfers WHERE kind IN ('transfer', 'deposit', 'post', 'reverse')),
     credits AS (SELECT to_account_id AS id, sum(amount) AS total FROM moves GROUP BY 1),
     debits AS (SELECT from_account_id AS id, sum(amount) AS total FROM moves GROUP BY 1)
SELECT a.id, a.balance, COALESCE(c.total, 0) - COALESCE(d.total, 0)
  FROM accounts a LEFT JOIN credits c USING (id) LEFT JOIN debits d USING (id)
 WHERE a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0)
 ORDER BY a.id LIMIT 20
)sql";

constexpr const char* held_off_holds = R"sql(
WITH open AS (
    SELECT p.from_account_id AS id, sum(p.amount) AS total
      FROM transfers p
     WHERE p.kind = 'pending' AND NOT EXISTS (SELECT 1 FROM transfers s WHERE s.pending_id = p.id)
     GROUP BY 1)
SELECT a.id, a.held, COALESCE(o.total, 0)
  FROM accounts a LEFT JOIN open o USING (id)
 WHERE a.held <> COALESCE(o.total, 0)
 ORDER BY a.id LIMIT 20
)sql";

constexpr const char* overdrawn_customers = R"sql(
SELECT id, balance, held FROM accounts WHERE kind = 'customer' AND (balance < held OR held < 0) ORDER BY id LIMIT 20
)sql";

constexpr const char* available_constraint = R"sql(
SELECT count(*) FROM pg_constraint
 WHERE conrelid = 'accounts'::regclass AND conname = 'accounts_available_non_negative' AND convalidated
)sql";

constexpr const char* bad_settlements = R"sql(
SELECT s.id, s.kind, p.id, p.kind, s.amount, p.amount, s.created_at < p.expires_at
  FROM transfers s LEFT JOIN transfers p ON p.id = s.pending_id
 WHERE s.pending_id IS NOT NULL
   AND (p.kind IS DISTINCT FROM 'pending' OR s.from_account_id <> p.from_account_id
        OR s.to_account_id <> p.to_account_id OR s.currency <> p.currency
        OR (s.kind = 'post' AND (s.amount > p.amount OR s.created_at >= p.expires_at))
        OR (s.kind = 'void' AND (s.amount <> p.amount OR s.created_at >= p.expires_at))
        OR (s.kind = 'expire' AND (s.amount <> p.amount OR p.expires_at IS NULL OR s.created_at < p.expires_at))
        OR s.kind NOT IN ('post', 'void', 'expire')
        OR (SELECT count(*) FROM transfers d WHERE d.pending_id = p.id) > 1)
 ORDER BY s.id LIMIT 20
)sql";

constexpr const char* bad_reversals = R"sql(
SELECT o.id, o.kind, o.amount, sum(r.amount), bool_and(r.from_account_id = o.to_account_id
                                                     AND r.to_account_id = o.from_account_id
                                                     AND r.kind = 'reverse')
  FROM transfers r JOIN transfers o ON o.id = r.reverses_transfer_id
 GROUP BY o.id, o.kind, o.amount
HAVING sum(r.amount) > o.amount OR o.kind NOT IN ('transfer', 'deposit', 'post')
    OR NOT bool_and(r.from_account_id = o.to_account_id AND r.to_account_id = o.from_account_id
                    AND r.kind = 'reverse')
 ORDER BY o.id LIMIT 20
)sql";

constexpr const char* holds_table_off = R"sql(
WITH open AS (
    SELECT p.id, p.from_account_id, p.amount, p.expires_at FROM transfers p
     WHERE p.kind = 'pending' AND NOT EXISTS (SELECT 1 FROM transfers s WHERE s.pending_id = p.id))
SELECT coalesce(o.id, h.transfer_id), o.id IS NOT NULL, h.transfer_id IS NOT NULL
  FROM open o FULL JOIN holds h ON h.transfer_id = o.id
 WHERE o.id IS NULL OR h.transfer_id IS NULL OR h.account_id <> o.from_account_id OR h.amount <> o.amount
    OR h.expires_at IS DISTINCT FROM o.expires_at
 ORDER BY 1 LIMIT 20
)sql";

// Each side of each row with what it did to the account's balance and held;
// the held change of a settlement is the whole hold.
constexpr const char* balance_after_off = R"sql(
WITH sides AS (
    SELECT t.id, t.created_at, t.from_account_id AS account,
           CASE WHEN t.kind IN ('transfer', 'deposit', 'post', 'reverse') THEN -t.amount ELSE 0 END AS dbal,
           CASE WHEN t.kind = 'pending' THEN t.amount WHEN t.pending_id IS NOT NULL THEN -p.amount ELSE 0 END
               AS dheld,
           t.from_balance_after AS bal, t.from_held_after AS held
      FROM transfers t LEFT JOIN transfers p ON p.id = t.pending_id
    UNION ALL
    SELECT t.id, t.created_at, t.to_account_id,
           CASE WHEN t.kind IN ('transfer', 'deposit', 'post', 'reverse') THEN t.amount ELSE 0 END, 0,
           t.to_balance_after, t.to_held_after
      FROM transfers t),
running AS (
    SELECT s.*, sum(s.dbal) OVER w AS rbal, sum(s.dheld) OVER w AS rheld
      FROM sides s WINDOW w AS (PARTITION BY s.account ORDER BY s.created_at, s.id))
SELECT id, account, bal, rbal, held, rheld FROM running
 WHERE bal IS DISTINCT FROM rbal OR held IS DISTINCT FROM rheld
 ORDER BY id LIMIT 20
)sql";

}  // namespace

void keep(std::vector<violation>& out, std::string check, std::string evidence) {
  std::size_t same = 0;
  for (const auto& v : out) same += v.check == check;
  if (same < max_evidence) out.push_back({std::move(check), std::move(evidence)});
}

void check_invariants(pg_reader& db, std::vector<violation>& out) {
  for (const auto& r : db.query(unbalanced_currencies))
    keep(out, "ledger_currency_sum", r[0] + ": all balances sum to " + r[1] + ", not 0");
  for (const auto& r : db.query(balances_off_ledger))
    keep(out, "ledger_balance",
         "account " + r[0] + " holds " + r[1] + " but its money-moving rows give credits - debits = " + r[2]);
  for (const auto& r : db.query(held_off_holds))
    keep(out, "ledger_held", "account " + r[0] + " has held " + r[1] + " but its open holds total " + r[2]);
  for (const auto& r : db.query(overdrawn_customers))
    keep(out, "ledger_available",
         "customer account " + r[0] + " has balance " + r[1] + " and held " + r[2] + ": available < 0");
  if (db.query(available_constraint).at(0).at(0) != "1")
    keep(out, "ledger_available", "the constraint accounts_available_non_negative is missing or not validated");
  for (const auto& r : db.query(bad_settlements))
    keep(out, "ledger_settlement",
         r[1] + " row " + r[0] + " settles " + (r[3].empty() ? "nothing" : r[3] + " row " + r[2]) + " (amount " +
             r[4] + " of " + r[5] + ", before the deadline: " + (r[6].empty() ? "none" : r[6]) +
             "), or the hold has more than one settlement");
  for (const auto& r : db.query(bad_reversals))
    keep(out, "ledger_reversal",
         r[1] + " " + r[0] + " of " + r[2] + " has reversals totalling " + r[3] +
             (r[4] == "t" ? "" : ", some not from its receiver back to its sender"));
  for (const auto& r : db.query(holds_table_off))
    keep(out, "ledger_holds_table",
         "hold " + r[0] + (r[1] == "t" ? " is open" : " is settled") +
             (r[2] == "t" ? " but its holds row differs or should be gone" : " but has no holds row"));
  for (const auto& r : db.query(balance_after_off))
    keep(out, "ledger_balance_after",
         "row " + r[0] + ", account " + r[1] + ": balance_after " + r[2] + " held_after " + r[4] +
             ", but the rows up to it give " + r[3] + " and " + r[5]);
}

std::vector<violation> verify_invariants(const std::string& database_url) {
  pg_reader db(database_url);
  std::vector<violation> out;
  check_invariants(db, out);
  return out;
}

}  // namespace bankd::loadtest
