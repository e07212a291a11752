-- pgbench: one transfer as bankd makes it, in plain SQL (SERIALIZABLE, two
-- balance updates and a ledger row). Accounts :first .. :first + :n - 1 must
-- exist with balances that never run dry (bench.sh deposits 10^9 into each):
-- a refused update would abort the pgbench client.
\set from :first + random(0, :n - 1)
\set to :first + (:from - :first + random(1, :n - 1)) % :n
\set amount random(1, 100)
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE accounts SET balance = balance - :amount WHERE id = :from;
UPDATE accounts SET balance = balance + :amount WHERE id = :to;
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key) VALUES (:from, :to, 'EUR', :amount, 0, 'pgb-' || txid_current());
END;
