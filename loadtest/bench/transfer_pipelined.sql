-- pgbench: transfer.sql sent as one pipeline (one round trip per transfer).
\set from :first + random(0, :n - 1)
\set to :first + (:from - :first + random(1, :n - 1)) % :n
\set amount random(1, 100)
\startpipeline
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE accounts SET balance = balance - :amount WHERE id = :from;
UPDATE accounts SET balance = balance + :amount WHERE id = :to;
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key) VALUES (:from, :to, 'EUR', :amount, 0, 'pgb-' || txid_current());
END;
\endpipeline
