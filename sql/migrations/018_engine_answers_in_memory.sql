-- The engine's answer made from what the batch wrote, without reading it
-- back (after 016 and 017).
--
-- bank_apply_batch answered every event by joining its rows to
-- transfer_views: three index probes per row and, under plprofiler, about
-- 0.1 ms of fixed cost a batch. When every answer shows a row the batch
-- itself wrote (a transfer, deposit or hold, or an in-batch replay of one)
-- and no event of the batch settled or reversed anything, each shown row is
-- one nothing has touched yet, and its view columns are known in memory: a
-- transfer or deposit is posted with nothing reversed, a hold is pending
-- and holds its whole amount. Batches with a post, void, expire or reversal,
-- or with a replay of an older row, still answer through transfer_views.
-- Rules and writes are 016's, unchanged, and so are 017's settings, which
-- CREATE OR REPLACE would otherwise reset.

CREATE OR REPLACE FUNCTION bank_apply_batch(
    kinds text[], from_ids bigint[], to_ids bigint[], amounts bigint[], currencies text[],
    owners bigint[], initiators bigint[], keys text[], refs text[], groups int[],
    targets bigint[], timeouts int[], metas jsonb[])
RETURNS TABLE (ord int, outcome text, subject bigint, id bigint, kind text, status text,
               from_account_id bigint, to_account_id bigint, currency text, amount bigint,
               reference text, metadata text, created_at text, expires_at text, pending_id bigint,
               reverses_transfer_id bigint, held_amount bigint, posted_amount bigint,
               settled_by bigint, settled_at text, reversed_amount bigint, reversals text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_material = off
SET jit = off
AS $fn$
DECLARE
    n int := cardinality(kinds);
    max_balance constant bigint := 9223372036854775807;
    -- Targets (p_*) and accounts (a_*) of the batch; per event, their positions.
    e_pos int[]; p_id bigint[]; p_kind text[]; p_from bigint[]; p_to bigint[]; p_cur text[];
    p_amount bigint[]; p_ref text[]; p_expires timestamptz[]; p_open bool[]; p_reversed bigint[];
    d_pos int[]; c_pos int[]; a_id bigint[]; a_user bigint[]; a_cur text[]; a_funding bool[];
    a_closed bool[]; a_frozen bool[]; a_bal bigint[]; a_held bigint[]; a_changed bool[];
    debit_ids bigint[]; credit_ids bigint[];
    -- Per event: the first event of the batch with the same (initiator, key),
    -- and the ledger row that already holds that key, if any.
    e_first int[];
    x_id bigint[]; x_show bigint[]; x_kind text[]; x_from bigint[]; x_to bigint[]; x_cur text[];
    x_amount bigint[]; x_ref text[]; x_meta jsonb[]; x_target bigint[]; x_timeout int[];
    -- Per event: the answer, and the transfer to show with it; r_fresh: its
    -- row among this batch's new ones (w_*), when it is one. shown_old: some
    -- answer shows a row that existed before the batch.
    r_status text[]; r_subject bigint[]; r_show bigint[]; r_fresh int[];
    shown_old bool := false; has_targets bool := false;
    -- holder[f]: the event of this batch that committed the key whose first event is f.
    holder int[];
    -- New ledger rows (the first wn of w_*), new holds (hn) and settled holds (sn).
    wn int := 0; hn int := 0; sn int := 0;
    w_id bigint[]; w_kind text[]; w_from bigint[]; w_to bigint[]; w_cur text[]; w_amount bigint[];
    w_init bigint[]; w_key text[]; w_ref text[]; w_meta jsonb[]; w_pending bigint[];
    w_reverses bigint[]; w_expires timestamptz[];
    w_fbal bigint[]; w_fheld bigint[]; w_tbal bigint[]; w_theld bigint[];
    h_id bigint[]; h_account bigint[]; h_amount bigint[]; h_expires timestamptz[]; s_id bigint[];
    seq regclass := pg_get_serial_sequence('transfers', 'id')::regclass;
    -- Atomic groups: what to restore when one fails.
    g int := 0; g_start int; g_bal bigint[]; g_held bigint[]; g_changed bool[]; g_open bool[];
    g_reversed bigint[]; g_wn int; g_hn int; g_sn int; g_failed bool := false;
    i int; j int; f int; t int; p int; amt bigint; why text; who bigint; k text;
BEGIN
    IF n IS NULL OR n = 0 THEN
        RETURN;
    END IF;

    has_targets := EXISTS (SELECT 1 FROM unnest(targets) x WHERE x IS NOT NULL);
    IF has_targets THEN
        SELECT * INTO e_pos, p_id, p_kind, p_from, p_to, p_cur, p_amount, p_ref, p_expires, p_open,
                      p_reversed
          FROM bank_batch_targets(kinds, targets);
    ELSE
        e_pos := array_fill(NULL::int, ARRAY[n]);
    END IF;

    -- Each event's debited and credited account: for post, void and expire
    -- the hold's; a reversal debits the original's receiver.
    debit_ids := array_fill(NULL::bigint, ARRAY[n]);
    credit_ids := array_fill(NULL::bigint, ARRAY[n]);
    FOR i IN 1 .. n LOOP
        p := e_pos[i];
        IF kinds[i] IN ('transfer', 'pending', 'deposit') THEN
            debit_ids[i] := from_ids[i]; credit_ids[i] := to_ids[i];
        ELSIF p IS NOT NULL AND kinds[i] = 'reverse' THEN
            debit_ids[i] := p_to[p]; credit_ids[i] := p_from[p];
        ELSIF p IS NOT NULL THEN
            debit_ids[i] := p_from[p]; credit_ids[i] := p_to[p];
        END IF;
    END LOOP;
    SELECT * INTO d_pos, c_pos, a_id, a_user, a_cur, a_funding, a_closed, a_frozen, a_bal, a_held
      FROM bank_batch_accounts(kinds, debit_ids, credit_ids);
    a_changed := array_fill(false, ARRAY[greatest(cardinality(a_id), 1)]);

    -- Keys: the first use within the batch, and any earlier use in the ledger.
    SELECT * INTO e_first, x_id, x_show, x_kind, x_from, x_to, x_cur, x_amount, x_ref, x_meta,
                  x_target, x_timeout
      FROM bank_batch_keys(initiators, keys);

    r_status := array_fill(NULL::text, ARRAY[n]);
    r_subject := array_fill(NULL::bigint, ARRAY[n]);
    r_show := array_fill(NULL::bigint, ARRAY[n]);
    r_fresh := array_fill(NULL::int, ARRAY[n]);
    holder := array_fill(0, ARRAY[n]);

    FOR i IN 1 .. n LOOP
        -- Entering or leaving an atomic group.
        IF groups[i] <> g THEN
            g := groups[i];
            g_failed := false;
            IF g <> 0 THEN
                g_start := i; g_bal := a_bal; g_held := a_held; g_changed := a_changed;
                g_open := p_open; g_reversed := p_reversed; g_wn := wn; g_hn := hn; g_sn := sn;
            END IF;
        END IF;
        IF g <> 0 AND g_failed THEN
            r_status[i] := 'batch_failed';
            CONTINUE;
        END IF;

        k := kinds[i]; f := d_pos[i]; t := c_pos[i]; p := e_pos[i]; amt := amounts[i];
        why := NULL; who := NULL;
        j := holder[e_first[i]];
        IF x_id[i] IS NOT NULL THEN
            -- The key is taken by a ledger row.
            IF bank_same_operation(k, from_ids[i], to_ids[i], amt, currencies[i], refs[i], metas[i],
                                   p_id[p], timeouts[i], x_kind[i], x_from[i], x_to[i], x_amount[i],
                                   x_cur[i], x_ref[i], x_meta[i], x_target[i], x_timeout[i]) THEN
                r_status[i] := 'replayed'; r_show[i] := x_show[i]; shown_old := true;
            ELSE
                why := 'idempotency_key_reused';
            END IF;
        ELSIF j > 0 THEN
            -- ... or by an earlier event of this batch: the same request, exactly.
            IF kinds[j] = k AND from_ids[j] IS NOT DISTINCT FROM from_ids[i]
               AND to_ids[j] IS NOT DISTINCT FROM to_ids[i] AND amounts[j] IS NOT DISTINCT FROM amt
               AND (currencies[i] IS NULL OR currencies[i] = a_cur[d_pos[j]])
               AND refs[j] IS NOT DISTINCT FROM refs[i] AND targets[j] IS NOT DISTINCT FROM targets[i]
               AND timeouts[j] IS NOT DISTINCT FROM timeouts[i] AND metas[j] IS NOT DISTINCT FROM metas[i] THEN
                r_status[i] := 'replayed'; r_show[i] := r_show[j]; r_fresh[i] := r_fresh[j];
            ELSE
                why := 'idempotency_key_reused';
            END IF;
        ELSIF k IN ('transfer', 'pending', 'deposit') THEN
            IF k <> 'deposit' AND f IS NULL THEN
                why := 'account_not_found'; who := from_ids[i];
            ELSIF k <> 'deposit' AND owners[i] IS NOT NULL AND a_user[f] <> owners[i] THEN
                why := 'forbidden'; who := from_ids[i];
            ELSIF t IS NULL THEN
                why := 'account_not_found'; who := to_ids[i];
            ELSIF k = 'deposit' AND a_funding[t] THEN
                why := 'not_customer'; who := to_ids[i];
            ELSIF f IS NULL THEN
                why := 'refused';  -- a deposit with no funding account for its currency
            ELSE
                why := bank_refuse_movement(
                    a_closed[f], a_closed[t], a_frozen[f] AND k <> 'deposit',
                    a_cur[f] = a_cur[t] AND coalesce(currencies[i] = a_cur[f], true), a_funding[f],
                    a_bal[f] - a_held[f], CASE WHEN k = 'pending' THEN 0 ELSE a_bal[f] END,
                    CASE WHEN k = 'pending' THEN a_held[f] ELSE a_bal[t] END, amt);
            END IF;
            IF why IS NULL AND k = 'pending' THEN
                a_held[f] := a_held[f] + amt; a_changed[f] := true;
            ELSIF why IS NULL THEN
                a_bal[f] := a_bal[f] - amt; a_bal[t] := a_bal[t] + amt;
                a_changed[f] := true; a_changed[t] := true;
            END IF;
        ELSIF p IS NULL THEN
            why := 'not_found'; who := targets[i];
        ELSIF k IN ('post', 'void', 'expire') THEN
            IF owners[i] IS NOT NULL AND a_user[f] <> owners[i] THEN
                why := 'forbidden'; who := a_id[f];
            ELSIF NOT p_open[p] OR (k <> 'expire' AND p_expires[p] <= now()) THEN
                why := 'transfer_not_pending'; who := p_id[p];
            ELSIF k = 'expire' AND NOT coalesce(p_expires[p] <= now(), false) THEN
                why := 'not_due'; who := p_id[p];
            ELSIF k = 'post' AND amt > p_amount[p] THEN
                why := 'amount_exceeds_pending'; who := p_id[p];
            ELSIF k = 'post' THEN
                amt := coalesce(amt, p_amount[p]);
                why := bank_refuse_movement(a_closed[f], a_closed[t], a_frozen[f], true, a_funding[f],
                                            p_amount[p], a_bal[f], a_bal[t], amt);
            ELSE
                amt := p_amount[p];  -- a void or expire row records the amount it releases
            END IF;
            IF why IS NULL THEN
                a_held[f] := a_held[f] - p_amount[p]; a_changed[f] := true;
                IF k = 'post' THEN
                    a_bal[f] := a_bal[f] - amt; a_bal[t] := a_bal[t] + amt; a_changed[t] := true;
                END IF;
                p_open[p] := false;
                sn := sn + 1; s_id[sn] := p_id[p];
            END IF;
        ELSE  -- reverse: from the original's receiver (f) back to its sender (t)
            IF owners[i] IS NOT NULL AND a_user[f] <> owners[i] THEN
                why := 'forbidden'; who := a_id[f];
            ELSIF NOT ledger_reversible(p_kind[p]) THEN
                why := 'transfer_not_reversible'; who := p_id[p];
            ELSIF coalesce(amt, p_amount[p] - p_reversed[p]) NOT BETWEEN 1 AND p_amount[p] - p_reversed[p] THEN
                why := 'reversal_exceeds_remainder'; who := p_id[p];
            ELSE
                amt := coalesce(amt, p_amount[p] - p_reversed[p]);
                why := bank_refuse_movement(a_closed[f], a_closed[t], a_frozen[f], true, a_funding[f],
                                            a_bal[f] - a_held[f], a_bal[f], a_bal[t], amt);
            END IF;
            IF why IS NULL THEN
                a_bal[f] := a_bal[f] - amt; a_bal[t] := a_bal[t] + amt;
                a_changed[f] := true; a_changed[t] := true;
                p_reversed[p] := p_reversed[p] + amt;
            END IF;
        END IF;

        IF why IS NULL AND r_status[i] IS NULL THEN
            -- Committed: the new ledger row, with both sides' balances after it.
            r_status[i] := 'committed';
            holder[e_first[i]] := i;
            wn := wn + 1;
            w_id[wn] := nextval(seq); w_kind[wn] := k; w_from[wn] := a_id[f]; w_to[wn] := a_id[t];
            w_cur[wn] := a_cur[f]; w_amount[wn] := amt; w_init[wn] := initiators[i];
            w_key[wn] := keys[i]; w_meta[wn] := metas[i];
            w_ref[wn] := CASE WHEN k IN ('post', 'void', 'expire') THEN p_ref[p] ELSE refs[i] END;
            w_pending[wn] := CASE WHEN k IN ('post', 'void', 'expire') THEN p_id[p] END;
            w_reverses[wn] := CASE WHEN k = 'reverse' THEN p_id[p] END;
            w_expires[wn] := CASE WHEN k = 'pending' THEN now() + make_interval(secs => timeouts[i]) END;
            w_fbal[wn] := a_bal[f]; w_fheld[wn] := a_held[f]; w_tbal[wn] := a_bal[t]; w_theld[wn] := a_held[t];
            r_show[i] := coalesce(w_pending[wn], w_id[wn]);
            IF w_pending[wn] IS NULL THEN r_fresh[i] := wn; END IF;
            IF k = 'pending' THEN
                hn := hn + 1;
                h_id[hn] := w_id[wn]; h_account[hn] := a_id[f]; h_amount[hn] := amt;
                h_expires[hn] := w_expires[wn];
            END IF;
        ELSIF why IS NOT NULL THEN
            r_status[i] := why;
            r_subject[i] := coalesce(who, CASE why
                WHEN 'account_closed' THEN CASE WHEN a_closed[f] THEN a_id[f] ELSE a_id[t] END
                WHEN 'account_frozen' THEN a_id[f]
                WHEN 'insufficient_funds' THEN a_id[f]
                WHEN 'balance_overflow' THEN a_id[t] END);
            IF g <> 0 THEN
                -- The group fails: undo what its earlier events did.
                g_failed := true;
                a_bal := g_bal; a_held := g_held; a_changed := g_changed; p_open := g_open;
                p_reversed := g_reversed; wn := g_wn; hn := g_hn; sn := g_sn;
                FOR j IN g_start .. i - 1 LOOP
                    IF holder[e_first[j]] = j THEN holder[e_first[j]] := 0; END IF;
                    r_status[j] := 'batch_failed'; r_show[j] := NULL; r_subject[j] := NULL;
                    r_fresh[j] := NULL;
                END LOOP;
            END IF;
        END IF;
    END LOOP;

    -- Balances first, then the ledger rows that reference them, then the holds.
    UPDATE accounts a SET balance = u.bal, held = u.hld
      FROM unnest(a_id, a_bal, a_held, a_changed) u(x, bal, hld, changed)
     WHERE u.changed AND a.id = u.x;
    INSERT INTO transfers (id, kind, from_account_id, to_account_id, currency, amount, initiated_by,
                           idempotency_key, reference, metadata, pending_id, reverses_transfer_id,
                           expires_at, from_balance_after, from_held_after, to_balance_after,
                           to_held_after)
    OVERRIDING SYSTEM VALUE
    SELECT * FROM unnest(w_id[1:wn], w_kind[1:wn], w_from[1:wn], w_to[1:wn], w_cur[1:wn],
                         w_amount[1:wn], w_init[1:wn], w_key[1:wn], w_ref[1:wn], w_meta[1:wn],
                         w_pending[1:wn], w_reverses[1:wn], w_expires[1:wn], w_fbal[1:wn],
                         w_fheld[1:wn], w_tbal[1:wn], w_theld[1:wn]);
    IF hn > 0 THEN
        INSERT INTO holds (transfer_id, account_id, amount, expires_at)
        SELECT * FROM unnest(h_id[1:hn], h_account[1:hn], h_amount[1:hn], h_expires[1:hn]);
    END IF;
    IF sn > 0 THEN
        DELETE FROM holds h WHERE h.transfer_id = ANY (s_id[1:sn]);
    END IF;

    IF has_targets OR shown_old THEN
        RETURN QUERY
        SELECT o::int, r_status[o], r_subject[o], v.*
          FROM generate_series(1, n) o
          LEFT JOIN transfer_views v ON v.id = r_show[o]
         ORDER BY o;
        RETURN;
    END IF;
    -- Every answer shows a row of this batch, and no event of it settled or
    -- reversed anything: each row is as transfer_views shows a transfer,
    -- deposit or hold that nothing has touched yet, made from what was
    -- written (created_at is the transaction's now(), the column's default).
    RETURN QUERY
    SELECT o::int, r_status[o], r_subject[o], w_id[q], w_kind[q],
           CASE WHEN q IS NULL THEN NULL WHEN w_kind[q] = 'pending' THEN 'pending' ELSE 'posted' END,
           w_from[q], w_to[q], w_cur[q], w_amount[q], w_ref[q], w_meta[q]::text,
           CASE WHEN q IS NOT NULL THEN rfc3339(now()) END, rfc3339(w_expires[q]),
           NULL::bigint, NULL::bigint, CASE WHEN w_kind[q] = 'pending' THEN w_amount[q] END,
           NULL::bigint, NULL::bigint, NULL::text,
           CASE WHEN ledger_reversible(w_kind[q]) THEN 0::bigint END, NULL::text
      FROM generate_series(1, n) o
     CROSS JOIN LATERAL (SELECT r_fresh[o] AS q) f
     ORDER BY o;
END
$fn$;
