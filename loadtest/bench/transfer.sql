-- pgbench: one transfer as bankd makes it, in plain SQL (SERIALIZABLE, two
-- balance updates and a ledger row with each side's balance after it, timed
-- after the updates so that an account's rows sort in the order of its
-- balances, which the verifier of the later bankd runs checks). Accounts
-- :first .. :first + :n - 1 must exist with balances that never run dry (bench.sh deposits 10^9 into each):
-- a refused update would abort the pgbench client.
\set from :first + random(0, :n - 1)
\set to :first + (:from - :first + random(1, :n - 1)) % :n
\set amount random(1, 100)
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE accounts SET balance = balance - :amount WHERE id = :from;
UPDATE accounts SET balance = balance + :amount WHERE id = :to;
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, from_balance_after, from_held_after, to_balance_after, to_held_after, created_at) SELECT :from, :to, 'EUR', :amount, 0, 'pgb-' || txid_current(), f.balance, f.held, t.balance, t.held, clock_timestamp() FROM accounts f, accounts t WHERE f.id = :from AND t.id = :to;
END;
