-- pgbench: transfer.sql sent as one pipeline (one round trip per transfer).
\set from :first + random(0, :n - 1)
\set to :first + (:from - :first + random(1, :n - 1)) % :n
\set amount random(1, 100)
\startpipeline
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE accounts SET balance = balance - :amount WHERE id = :from;
UPDATE accounts SET balance = balance + :amount WHERE id = :to;
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, from_balance_after, from_held_after, to_balance_after, to_held_after, created_at) SELECT :from, :to, 'EUR', :amount, 0, 'pgb-' || txid_current(), f.balance, f.held, t.balance, t.held, clock_timestamp() FROM accounts f, accounts t WHERE f.id = :from AND t.id = :to;
END;
\endpipeline
