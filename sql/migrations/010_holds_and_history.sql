-- Two-phase transfers (holds), reversals, balance history and metadata.
--
-- The ledger stays append-only. Every kind of event is a new row of
-- transfers, and a row that settles an earlier one references it:
--
--   kind      moves money  row                     references
--   transfer  yes          from -> to, amount
--   deposit   yes          funding -> to, amount
--   pending   no           holds amount of from    (expires_at: its deadline, or none)
--   post      yes          from -> to, the posted  pending_id: the hold it settles
--                          amount (<= the hold)
--   void      no           releases the hold       pending_id
--   expire    no           releases the hold       pending_id (written by bankd's sweeper)
--   reverse   yes          to -> from of the       reverses_transfer_id: the transfer,
--                          original, amount        deposit or post it gives back
--
-- ledger_moves_money(kind) is that column, defined once. The invariants:
--   1. per currency, the balances of all accounts sum to 0;
--   2. each balance = credits - debits of the money-moving rows;
--   3. each held = the amounts of its open holds (pending rows with no
--      post, void or expire row referencing them);
--   4. for customer accounts, balance - held >= 0 (accounts_available_non_negative).
-- A pending row's status is derived from the row that settles it; at most one
-- can (transfers_one_settlement_per_hold). The table `holds` lists the open
-- holds: it is a work list for the sweeper, not the ledger.
--
-- Each row records, for each side, the account's balance and held right
-- after it (from_/to_balance_after, from_/to_held_after), so the balance at
-- any instant and a statement's running balance are one index lookup away
-- (account_entries, below).

CREATE FUNCTION ledger_moves_money(kind text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN kind IN ('transfer', 'deposit', 'post', 'reverse');

-- What a reversal may give back: money that moved, once; never a reversal.
CREATE FUNCTION ledger_reversible(kind text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN kind IN ('transfer', 'deposit', 'post');

ALTER TABLE accounts
    ADD COLUMN held bigint NOT NULL DEFAULT 0
        CONSTRAINT accounts_held_non_negative CHECK (held >= 0),
    ADD COLUMN metadata jsonb
        CONSTRAINT accounts_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    -- No arithmetic: balance - held could overflow for a funding account.
    ADD CONSTRAINT accounts_available_non_negative CHECK (kind = 'funding' OR balance >= held);

ALTER TABLE transfers
    DROP CONSTRAINT transfers_kind_known,
    ADD CONSTRAINT transfers_kind_known
        CHECK (kind IN ('transfer', 'deposit', 'pending', 'post', 'void', 'expire', 'reverse')),
    ADD COLUMN pending_id bigint CONSTRAINT transfers_pending_id_fkey REFERENCES transfers (id),
    ADD COLUMN reverses_transfer_id bigint
        CONSTRAINT transfers_reverses_transfer_id_fkey REFERENCES transfers (id),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN metadata jsonb
        CONSTRAINT transfers_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    ADD COLUMN from_balance_after bigint,
    ADD COLUMN from_held_after bigint,
    ADD COLUMN to_balance_after bigint,
    ADD COLUMN to_held_after bigint,
    ADD CONSTRAINT transfers_settles_a_hold
        CHECK ((kind IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)),
    ADD CONSTRAINT transfers_reversal_link CHECK ((kind = 'reverse') = (reverses_transfer_id IS NOT NULL)),
    ADD CONSTRAINT transfers_expiry_of_holds CHECK (expires_at IS NULL OR kind = 'pending');

-- Rows written before this migration were all transfers and deposits, with
-- nothing held: their balances after, in (created_at, id) order. A one-time
-- backfill of new columns; no movement changes.
-- The ledger is append-only (migration 007): this backfill of columns that
-- did not exist is the one rewrite of its rows, with the trigger off for it.
ALTER TABLE transfers DISABLE TRIGGER transfers_append_only;
WITH sides AS (
    SELECT t.id, t.from_account_id AS account, -t.amount AS delta, t.created_at FROM transfers t
    UNION ALL
    SELECT t.id, t.to_account_id, t.amount, t.created_at FROM transfers t),
running AS (
    SELECT s.id, s.account,
           sum(s.delta) OVER (PARTITION BY s.account ORDER BY s.created_at, s.id) AS after
      FROM sides s)
UPDATE transfers t
   SET from_balance_after = f.after, to_balance_after = c.after, from_held_after = 0, to_held_after = 0
  FROM running f, running c
 WHERE f.id = t.id AND f.account = t.from_account_id AND c.id = t.id AND c.account = t.to_account_id;
ALTER TABLE transfers ENABLE TRIGGER transfers_append_only;

ALTER TABLE transfers
    ALTER COLUMN from_balance_after SET NOT NULL,
    ALTER COLUMN from_held_after SET NOT NULL,
    ALTER COLUMN to_balance_after SET NOT NULL,
    ALTER COLUMN to_held_after SET NOT NULL;

-- An account's entries by time, in either direction: history pages,
-- statements and the balance at an instant walk these (account_entries).
-- created_at is the batch's transaction start, taken after the engine's
-- advisory lock (migration 004), so it follows the order of ids.
DROP INDEX transfers_from_history_idx;
DROP INDEX transfers_to_history_idx;
CREATE INDEX transfers_from_entries_idx ON transfers (from_account_id, created_at, id);
CREATE INDEX transfers_to_entries_idx ON transfers (to_account_id, created_at, id);
-- A hold is settled once: post, void or expire, never two of them.
CREATE UNIQUE INDEX transfers_one_settlement_per_hold ON transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX transfers_reversals_idx ON transfers (reverses_transfer_id) WHERE reverses_transfer_id IS NOT NULL;

-- The open holds, with their deadlines: inserted with the pending row,
-- deleted with the row that settles it.
CREATE TABLE holds (
    transfer_id bigint PRIMARY KEY REFERENCES transfers (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    amount      bigint NOT NULL CONSTRAINT holds_amount_positive CHECK (amount > 0),
    expires_at  timestamptz
);
CREATE INDEX holds_due_idx ON holds (expires_at, transfer_id) WHERE expires_at IS NOT NULL;
-- A work list, not history (the ledger keeps that): the service's group
-- role (migration 007, which grants no DELETE elsewhere) may delete from it.
DO $$
BEGIN
  EXECUTE format('GRANT DELETE ON holds TO %I', current_database() || '_app');
END
$$;

-- One row per side of every ledger row: what it did to that account.
-- balance_change is 0 for rows that move no money (pending, void, expire).
-- A query naming one account_id reaches each branch's index.
CREATE VIEW account_entries AS
    SELECT t.id, t.from_account_id AS account_id, 'debit'::text AS direction,
           t.to_account_id AS counterparty_account_id, t.kind, t.amount,
           CASE WHEN ledger_moves_money(t.kind) THEN -t.amount ELSE 0 END AS balance_change,
           t.from_balance_after AS balance_after, t.from_held_after AS held_after,
           t.currency, t.reference, t.metadata, t.created_at
      FROM transfers t
    UNION ALL
    SELECT t.id, t.to_account_id, 'credit'::text, t.from_account_id, t.kind, t.amount,
           CASE WHEN ledger_moves_money(t.kind) THEN t.amount ELSE 0 END,
           t.to_balance_after, t.to_held_after,
           t.currency, t.reference, t.metadata, t.created_at
      FROM transfers t;

-- A ledger row as the API shows it: its status and what references it.
--   status           pending rows: pending | posted | voided | expired, from
--                    the row that settled them; void: voided; expire:
--                    expired; every other row: posted
--   held_amount      pending rows: what is still held (0 once settled)
--   posted_amount    pending rows that were posted
--   settled_by, settled_at   the post, void or expire row of a pending row
--   reversed_amount, reversals   reversible rows: the total given back, and by which rows
CREATE VIEW transfer_views AS
    SELECT t.id, t.kind,
           CASE t.kind
               WHEN 'pending' THEN CASE s.kind WHEN 'post' THEN 'posted' WHEN 'void' THEN 'voided'
                                               WHEN 'expire' THEN 'expired' ELSE 'pending' END
               WHEN 'void' THEN 'voided'
               WHEN 'expire' THEN 'expired'
               ELSE 'posted' END AS status,
           t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
           t.metadata::text AS metadata, rfc3339(t.created_at) AS created_at,
           rfc3339(t.expires_at) AS expires_at, t.pending_id, t.reverses_transfer_id,
           CASE WHEN t.kind = 'pending' THEN CASE WHEN s.id IS NULL THEN t.amount ELSE 0 END END
               AS held_amount,
           CASE WHEN s.kind = 'post' THEN s.amount END AS posted_amount,
           s.id AS settled_by, rfc3339(s.created_at) AS settled_at,
           CASE WHEN ledger_reversible(t.kind) THEN coalesce(r.total, 0) END AS reversed_amount,
           r.ids AS reversals
      FROM transfers t
      LEFT JOIN LATERAL (
            SELECT x.id, x.kind, x.amount, x.created_at FROM transfers x
             WHERE t.kind = 'pending' AND x.pending_id = t.id) s ON true
      LEFT JOIN LATERAL (
            SELECT sum(x.amount)::bigint AS total, json_agg(x.id ORDER BY x.id)::text AS ids
              FROM transfers x
             WHERE ledger_reversible(t.kind) AND x.reverses_transfer_id = t.id
            HAVING count(*) > 0) r ON true;
