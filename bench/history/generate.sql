-- A ledger of :rows rows written straight into the tables, for
-- bench/history/history-bench.sh: 1,000 filler customers paying each other,
-- and account 2, whose 1,000 rows (one in every :rows / 1000, credits of 10
-- from the funding account and debits of 5 to a filler) are spread evenly
-- over the ledger's year. Account 2's rows carry their true balance after
-- them; the filler rows carry 0 (nothing reads them), so the ledger
-- invariants do not hold in this database: it exists to be timed.
--
--   psql -v rows=10000000 -f generate.sql DATABASE   (on a freshly migrated database)
\set ON_ERROR_STOP on
SET maintenance_work_mem = '512MB';
-- The rows are consistent with the accounts by construction: no per-row
-- foreign-key checks.
SET session_replication_role = replica;

INSERT INTO users (name, email)
SELECT 'filler ' || g, 'filler' || g || '@bench.invalid' FROM generate_series(1, 1001) g;
INSERT INTO accounts (user_id, currency, kind) VALUES (0, 'EUR', 'funding');  -- id 1
INSERT INTO accounts (user_id, currency) SELECT g, 'EUR' FROM generate_series(1, 1001) g;  -- 2..1002

-- Plain secondary indexes are built once after the load, from their own
-- definitions, rather than row by row.
CREATE TEMP TABLE saved_indexes AS
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid
 WHERE i.indrelid = 'transfers'::regclass AND k.oid IS NULL;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM saved_indexes LOOP EXECUTE format('DROP INDEX %I', r.name); END LOOP;
END $$;

INSERT INTO transfers (id, kind, from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key,
                       created_at, from_balance_after, from_held_after, to_balance_after, to_held_after)
OVERRIDING SYSTEM VALUE
SELECT g,
       CASE WHEN target AND k % 2 = 1 THEN 'deposit' ELSE 'transfer' END,
       CASE WHEN NOT target THEN 3 + f ELSE CASE WHEN k % 2 = 1 THEN 1 ELSE 2 END END,
       CASE WHEN NOT target THEN 3 + (f + 1 + g % 998) % 1000 ELSE CASE WHEN k % 2 = 1 THEN 2 ELSE 3 + f END END,
       'EUR',
       CASE WHEN NOT target THEN 1 WHEN k % 2 = 1 THEN 10 ELSE 5 END,
       0, 'gen ' || g,
       timestamptz '2026-01-01 00:00:00+00' + (g::float8 / :rows) * interval '365 days',
       CASE WHEN target AND k % 2 = 0 THEN 10 * ((k + 1) / 2) - 5 * (k / 2) ELSE 0 END, 0,
       CASE WHEN target AND k % 2 = 1 THEN 10 * ((k + 1) / 2) - 5 * (k / 2) ELSE 0 END, 0
  FROM (SELECT g, g % (:rows / 1000) = 0 AS target, g / (:rows / 1000) AS k, (g * 7919) % 1000 AS f
          FROM generate_series(1, :rows::bigint) g) s;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT def FROM saved_indexes LOOP EXECUTE r.def; END LOOP;
END $$;
SELECT setval(pg_get_serial_sequence('transfers', 'id'), :rows);
UPDATE accounts SET balance = (SELECT balance_after FROM account_entries WHERE account_id = 2
                                ORDER BY created_at DESC, id DESC LIMIT 1)
 WHERE id = 2;
RESET session_replication_role;
VACUUM ANALYZE transfers;
ANALYZE accounts;
ANALYZE users;
