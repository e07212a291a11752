-- The transfer engine: many money movements applied in one SERIALIZABLE
-- transaction by one function call, each with its own answer.
--
-- transfers.kind records what a ledger row is, so that an idempotency key is
-- compared against the whole operation: a deposit replayed with the key of an
-- operator's transfer is "idempotency_key_reused", never a replay of it.

ALTER TABLE transfers
    ADD COLUMN kind text NOT NULL DEFAULT 'transfer'
        CONSTRAINT transfers_kind_known CHECK (kind IN ('transfer', 'deposit'));

-- Rows written before the column existed: a deposit is the operator's
-- movement out of a funding account. (A one-time backfill of a new column;
-- no movement changes.)
UPDATE transfers t SET kind = 'deposit'
  FROM accounts a
 WHERE a.id = t.from_account_id AND a.kind = 'funding' AND t.initiated_by = 0;

-- The ledger's account references, checked once per statement instead of
-- once per row. The two foreign keys (account, currency) cost two lookups
-- and two row locks for every ledger row, more than the rest of a batched
-- transfer together; a statement-level trigger checks every new row of an
-- INSERT in one join. What the foreign keys also gave, that a referenced
-- account cannot disappear or change its currency, holds because accounts
-- are never deleted and their id and currency never change: two triggers
-- refuse both.
ALTER TABLE transfers DROP CONSTRAINT transfers_from_account_fkey,
                      DROP CONSTRAINT transfers_to_account_fkey;

CREATE FUNCTION transfers_check_accounts() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
DECLARE
    bad record;
BEGIN
    SELECT n.id, n.from_account_id, n.to_account_id, n.currency INTO bad
      FROM new_rows n
      LEFT JOIN accounts f ON f.id = n.from_account_id AND f.currency = n.currency
      LEFT JOIN accounts t ON t.id = n.to_account_id AND t.currency = n.currency
     WHERE f.id IS NULL OR t.id IS NULL
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger row % names accounts % -> % that do not hold %',
                        bad.id, bad.from_account_id, bad.to_account_id, bad.currency
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transfers_accounts_exist';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER transfers_check_accounts
    AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_check_accounts();

CREATE FUNCTION accounts_keep_identity() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'accounts are never deleted (close them)' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.id <> OLD.id OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'an account''s id and currency never change' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER accounts_keep_identity_update
    BEFORE UPDATE OF id, currency ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_keep_identity();
CREATE TRIGGER accounts_keep_identity_delete
    BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_keep_identity();

-- An operator can freeze an account, or a user and so all of its accounts:
-- a frozen account cannot send money (it can still receive).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS frozen_at timestamptz;
ALTER TABLE users ADD COLUMN IF NOT EXISTS frozen_at timestamptz;

-- bank_apply_batch: the events of one batch, as parallel arrays (element i of
-- every array is event i), applied in order. Nothing is refused by raising an
-- error: every event gets a row in the result, ord = its position (1-based):
--
--   status       committed | replayed | account_not_found | forbidden |
--                account_closed | account_frozen | currency_mismatch | insufficient_funds |
--                not_customer | balance_overflow | idempotency_key_reused |
--                batch_failed | refused
--   subject      the account a refusal is about, when it is about one
--   id .. kind   the ledger row (committed: the new one; replayed: the
--                earlier one with this key)
--
-- Arguments:
--   kinds        'transfer' or 'deposit'
--   from_ids     debited account (transfers; NULL for deposits, where the
--                funding account of the credited account's currency pays)
--   to_ids       credited account
--   amounts      minor units, > 0
--   currencies   the currency the caller expects, or NULL
--   owners       the user that must own the debited account, NULL for the operator
--   initiators   who asks (0 for the operator): the idempotency scope
--   keys         idempotency keys
--   refs         references, or NULL
--   groups       0, or the number of an atomic group: the events of a group
--                are consecutive and either all commit or none does; the
--                first refusal keeps its reason and the others of the group
--                become batch_failed
--
-- Refusals, in the order they are checked: the key's earlier use (replayed,
-- or idempotency_key_reused when the earlier operation differs in kind,
-- accounts, amount, currency or reference); account_not_found (debited,
-- then credited); forbidden (the debited account is not the owner's);
-- not_customer (a deposit into a funding account); account_closed;
-- account_frozen (the debited account, or its user, is frozen); currency_mismatch; insufficient_funds (customer accounts only: funding
-- accounts may go negative); balance_overflow.
--
-- The function reads every account it needs once, applies the events to
-- those balances in memory, then writes each changed balance once and every
-- new ledger row in one INSERT. It is run with an advisory lock held around
-- its whole transaction (see service/bank/engine.cpp), so bankd's batches
-- never conflict with one another; under SERIALIZABLE, a conflict with any
-- other writer still raises 40001 and bankd runs the whole batch again.
CREATE FUNCTION bank_apply_batch(
    kinds text[], from_ids bigint[], to_ids bigint[], amounts bigint[], currencies text[],
    owners bigint[], initiators bigint[], keys text[], refs text[], groups int[])
RETURNS TABLE (ord int, status text, subject bigint, id bigint, from_account_id bigint,
               to_account_id bigint, currency text, amount bigint, reference text,
               created_at text, kind text)
LANGUAGE plpgsql AS $fn$
DECLARE
    n int := cardinality(kinds);
    max_balance constant bigint := 9223372036854775807;
    min_balance constant bigint := -9223372036854775808;
    -- The accounts of the batch, position p: a_* [p].
    a_id bigint[]; a_user bigint[]; a_cur text[]; a_funding bool[]; a_closed bool[]; a_frozen bool[];
    a_bal bigint[]; a_changed bool[];
    -- Per event: positions of its accounts (NULL: no such account).
    e_from int[]; e_to int[];
    -- Per event: the first event of the batch with the same (initiator, key),
    -- and the ledger row that already holds that key, if any.
    e_first int[];
    x_id bigint[]; x_kind text[]; x_from bigint[]; x_to bigint[]; x_cur text[]; x_amount bigint[];
    x_ref text[]; x_at text[];
    -- Per event: the answer.
    r_status text[]; r_subject bigint[]; r_id bigint[]; r_from bigint[]; r_to bigint[];
    r_cur text[]; r_amount bigint[]; r_ref text[]; r_at text[]; r_kind text[];
    -- holder[f]: the event of this batch that committed the key whose first event is f.
    holder int[];
    -- New ledger rows, in order: the first wn of the w_* arrays.
    wn int := 0;
    w_id bigint[]; w_kind text[]; w_from bigint[]; w_to bigint[]; w_cur text[]; w_amount bigint[];
    w_init bigint[]; w_key text[]; w_ref text[];
    now_text text := rfc3339(now());
    seq regclass := pg_get_serial_sequence('transfers', 'id')::regclass;
    -- Atomic groups: what to restore when one fails.
    g int := 0; g_start int; g_bal bigint[]; g_changed bool[]; g_writes int; g_failed bool := false;
    i int; j int; f int; t int; amt bigint; cur text; why text; who bigint;
BEGIN
    IF n IS NULL OR n = 0 THEN
        RETURN;
    END IF;

    -- The accounts: every one named, and the funding account of the currency
    -- of every deposit's target.
    -- (One sort in a subquery: array_agg keeps its input order; an ORDER BY
    -- in each array_agg would sort once per array.)
    SELECT array_agg(s.id), array_agg(s.user_id), array_agg(s.currency), array_agg(s.funding),
           array_agg(s.closed), array_agg(s.balance), array_agg(s.frozen)
      INTO a_id, a_user, a_cur, a_funding, a_closed, a_bal, a_frozen
      FROM (SELECT a.id, a.user_id, a.currency, a.kind = 'funding' AS funding,
                   a.closed_at IS NOT NULL AS closed, a.balance,
                   a.frozen_at IS NOT NULL OR u.frozen_at IS NOT NULL AS frozen
      FROM accounts a JOIN users u ON u.id = a.user_id
     WHERE a.id IN (SELECT unnest(from_ids) UNION SELECT unnest(to_ids)
                    UNION
                    SELECT fa.id FROM accounts fa
                     WHERE fa.kind = 'funding' AND fa.currency IN (
                           SELECT c.currency FROM accounts c
                            WHERE c.id IN (SELECT u.to_id FROM unnest(kinds, to_ids) u(k, to_id)
                                            WHERE u.k = 'deposit')))
     ORDER BY a.id) s;
    a_id := coalesce(a_id, '{}');
    a_changed := array_fill(false, ARRAY[greatest(cardinality(a_id), 1)]);

    -- Positions of each event's accounts, by joins rather than searches.
    WITH acc AS (SELECT p, x FROM unnest(a_id) WITH ORDINALITY u(x, p)),
         ev AS (SELECT * FROM unnest(kinds, from_ids, to_ids) WITH ORDINALITY u(k, fid, tid, o))
    SELECT array_agg(s.f), array_agg(s.t) INTO e_from, e_to
      FROM (SELECT CASE WHEN ev.k = 'deposit' THEN fund.p ELSE fa.p END AS f, ta.p AS t
      FROM ev
      LEFT JOIN acc fa ON fa.x = ev.fid
      LEFT JOIN acc ta ON ta.x = ev.tid
      LEFT JOIN LATERAL (
            SELECT acc.p FROM acc
             WHERE ta.p IS NOT NULL AND a_funding[acc.p] AND a_cur[acc.p] = a_cur[ta.p]) fund ON true
     ORDER BY ev.o) s;

    -- Keys: the first use within the batch, and any earlier use in the ledger.
    SELECT array_agg(first_use) INTO e_first
      FROM (SELECT u.o, min(u.o) OVER (PARTITION BY u.ini, u.k) AS first_use
              FROM unnest(initiators, keys) WITH ORDINALITY u(ini, k, o) ORDER BY u.o) firsts;
    WITH ev AS (SELECT * FROM unnest(initiators, keys) WITH ORDINALITY u(ini, k, o))
    SELECT array_agg(s.id), array_agg(s.kind), array_agg(s.from_account_id), array_agg(s.to_account_id),
           array_agg(s.currency), array_agg(s.amount), array_agg(s.reference), array_agg(s.at)
      INTO x_id, x_kind, x_from, x_to, x_cur, x_amount, x_ref, x_at
      FROM (SELECT t.id, t.kind, t.from_account_id, t.to_account_id, t.currency, t.amount, t.reference,
                   rfc3339(t.created_at) AS at
              FROM ev
              LEFT JOIN transfers t ON t.initiated_by = ev.ini AND t.idempotency_key = ev.k
             ORDER BY ev.o) s;

    r_status := array_fill(NULL::text, ARRAY[n]);
    r_subject := array_fill(NULL::bigint, ARRAY[n]);
    r_id := array_fill(NULL::bigint, ARRAY[n]);
    r_from := array_fill(NULL::bigint, ARRAY[n]);
    r_to := array_fill(NULL::bigint, ARRAY[n]);
    r_cur := array_fill(NULL::text, ARRAY[n]);
    r_amount := array_fill(NULL::bigint, ARRAY[n]);
    r_ref := array_fill(NULL::text, ARRAY[n]);
    r_at := array_fill(NULL::text, ARRAY[n]);
    r_kind := array_fill(NULL::text, ARRAY[n]);
    holder := array_fill(0, ARRAY[n]);
    w_id := array_fill(NULL::bigint, ARRAY[n]); w_kind := array_fill(NULL::text, ARRAY[n]);
    w_from := array_fill(NULL::bigint, ARRAY[n]); w_to := array_fill(NULL::bigint, ARRAY[n]);
    w_cur := array_fill(NULL::text, ARRAY[n]); w_amount := array_fill(NULL::bigint, ARRAY[n]);
    w_init := array_fill(NULL::bigint, ARRAY[n]); w_key := array_fill(NULL::text, ARRAY[n]);
    w_ref := array_fill(NULL::text, ARRAY[n]);

    FOR i IN 1 .. n LOOP
        -- Entering or leaving an atomic group.
        IF groups[i] <> g THEN
            g := groups[i];
            g_failed := false;
            IF g <> 0 THEN
                g_start := i; g_bal := a_bal; g_changed := a_changed; g_writes := wn;
            END IF;
        END IF;
        IF g <> 0 AND g_failed THEN
            r_status[i] := 'batch_failed';
            CONTINUE;
        END IF;

        f := e_from[i]; t := e_to[i]; amt := amounts[i]; why := NULL; who := NULL;
        j := holder[e_first[i]];
        IF x_id[i] IS NOT NULL OR j > 0 THEN
            -- The key is taken: by a ledger row, or by an event before this one.
            IF x_id[i] IS NOT NULL THEN
                r_id[i] := x_id[i]; r_from[i] := x_from[i]; r_to[i] := x_to[i]; r_cur[i] := x_cur[i];
                r_amount[i] := x_amount[i]; r_ref[i] := x_ref[i]; r_at[i] := x_at[i]; r_kind[i] := x_kind[i];
                IF x_kind[i] = kinds[i] AND (kinds[i] = 'deposit' OR x_from[i] = from_ids[i])
                   AND x_to[i] = to_ids[i] AND x_amount[i] = amt
                   AND (currencies[i] IS NULL OR currencies[i] = x_cur[i])
                   AND x_ref[i] IS NOT DISTINCT FROM refs[i] THEN
                    r_status[i] := 'replayed';
                ELSE
                    why := 'idempotency_key_reused';
                END IF;
            ELSIF kinds[j] = kinds[i] AND (kinds[i] = 'deposit' OR from_ids[j] = from_ids[i])
                  AND to_ids[j] = to_ids[i] AND amounts[j] = amt
                  AND (currencies[i] IS NULL OR currencies[i] = r_cur[j])
                  AND refs[j] IS NOT DISTINCT FROM refs[i] THEN
                r_status[i] := 'replayed';
                r_id[i] := r_id[j]; r_from[i] := r_from[j]; r_to[i] := r_to[j]; r_cur[i] := r_cur[j];
                r_amount[i] := r_amount[j]; r_ref[i] := refs[i]; r_at[i] := now_text; r_kind[i] := kinds[i];
            ELSE
                why := 'idempotency_key_reused';
            END IF;
        ELSIF kinds[i] = 'transfer' AND f IS NULL THEN
            why := 'account_not_found'; who := from_ids[i];
        ELSIF kinds[i] = 'transfer' AND owners[i] IS NOT NULL AND a_user[f] <> owners[i] THEN
            why := 'forbidden'; who := from_ids[i];
        ELSIF t IS NULL THEN
            why := 'account_not_found'; who := to_ids[i];
        ELSIF kinds[i] = 'deposit' AND a_funding[t] THEN
            why := 'not_customer'; who := to_ids[i];
        ELSIF f IS NULL THEN
            why := 'refused';  -- a deposit with no funding account for its currency
        ELSIF a_closed[f] OR a_closed[t] THEN
            why := 'account_closed'; who := CASE WHEN a_closed[f] THEN a_id[f] ELSE to_ids[i] END;
        ELSIF kinds[i] = 'transfer' AND a_frozen[f] THEN
            why := 'account_frozen'; who := a_id[f];
        ELSIF a_cur[f] <> a_cur[t] OR (currencies[i] IS NOT NULL AND currencies[i] <> a_cur[f]) THEN
            why := 'currency_mismatch';
        ELSIF NOT a_funding[f] AND a_bal[f] < amt THEN
            why := 'insufficient_funds'; who := a_id[f];
        ELSIF a_bal[f] < min_balance + amt OR a_bal[t] > max_balance - amt THEN
            why := 'balance_overflow'; who := to_ids[i];
        ELSE
            a_bal[f] := a_bal[f] - amt; a_changed[f] := true;
            a_bal[t] := a_bal[t] + amt; a_changed[t] := true;
            cur := a_cur[f];
            r_status[i] := 'committed';
            r_id[i] := nextval(seq); r_from[i] := a_id[f]; r_to[i] := a_id[t]; r_cur[i] := cur;
            r_amount[i] := amt; r_ref[i] := refs[i]; r_at[i] := now_text; r_kind[i] := kinds[i];
            holder[e_first[i]] := i;
            wn := wn + 1;
            w_id[wn] := r_id[i]; w_kind[wn] := kinds[i]; w_from[wn] := a_id[f]; w_to[wn] := a_id[t];
            w_cur[wn] := cur; w_amount[wn] := amt; w_init[wn] := initiators[i]; w_key[wn] := keys[i];
            w_ref[wn] := refs[i];
        END IF;

        IF why IS NOT NULL THEN
            r_status[i] := why; r_subject[i] := who;
            r_id[i] := NULL; r_from[i] := NULL; r_to[i] := NULL; r_cur[i] := NULL; r_amount[i] := NULL;
            r_ref[i] := NULL; r_at[i] := NULL; r_kind[i] := NULL;
            IF g <> 0 THEN
                -- The group fails: undo what its earlier events did.
                g_failed := true;
                a_bal := g_bal; a_changed := g_changed;
                wn := g_writes;
                FOR j IN g_start .. i - 1 LOOP
                    IF holder[e_first[j]] = j THEN holder[e_first[j]] := 0; END IF;
                    r_status[j] := 'batch_failed'; r_id[j] := NULL; r_subject[j] := NULL;
                    r_from[j] := NULL; r_to[j] := NULL; r_cur[j] := NULL; r_amount[j] := NULL;
                    r_ref[j] := NULL; r_at[j] := NULL; r_kind[j] := NULL;
                END LOOP;
            END IF;
        END IF;
    END LOOP;

    -- Balances first, then the ledger rows that reference them.
    UPDATE accounts a SET balance = u.bal
      FROM unnest(a_id, a_bal, a_changed) u(x, bal, changed)
     WHERE u.changed AND a.id = u.x;
    INSERT INTO transfers (id, kind, from_account_id, to_account_id, currency, amount, initiated_by,
                           idempotency_key, reference)
    OVERRIDING SYSTEM VALUE
    SELECT * FROM unnest(w_id[1:wn], w_kind[1:wn], w_from[1:wn], w_to[1:wn], w_cur[1:wn],
                         w_amount[1:wn], w_init[1:wn], w_key[1:wn], w_ref[1:wn]);

    -- A refused or replayed-and-differing event carries no row (its r_* stay
    -- NULL but for status and subject); unnest keeps this linear.
    RETURN QUERY
    SELECT u.o::int, u.st, u.sub, u.id, u.fr, u.t, u.cur, u.amt, u.ref, u.at, u.k
      FROM unnest(r_status, r_subject, r_id, r_from, r_to, r_cur, r_amount, r_ref, r_at, r_kind)
           WITH ORDINALITY u(st, sub, id, fr, t, cur, amt, ref, at, k, o);
END
$fn$;
