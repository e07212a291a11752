-- The rest of the engine's batch planned once per session (after 016).
--
-- Migration 016 gave the lookups generic plans; the batch's writes (the
-- balances, the ledger rows, the holds) and its answer were still planned
-- again on every call, because their parameters are arrays. Measured with
-- plprofiler on a batch of one transfer, the answer alone cost about 0.5 ms
-- of its 1.3 ms, almost all of it planning transfer_views; the balance update
-- another 0.16 ms.
--
-- Every statement of bank_apply_batch, and of the triggers its inserts fire,
-- touches a few rows per event by key. So inside it every plan is generic and
-- every join is a nested loop over index probes: sequential scans, hash and
-- merge joins and materialized inner sides are off. A generic plan is made
-- once, possibly while the tables are nearly empty, and kept as they grow;
-- with those methods off, the plan made on an empty table is still the index
-- probe, whatever size the table reaches (016 explains the collapse this
-- prevents). JIT stays off: a generic plan's guessed row counts can pass
-- its threshold.
--
-- The three lookup functions join their own arrays in memory (hash joins)
-- and fence their table probes themselves (016), so they turn those join
-- methods back on for their own statements.

ALTER FUNCTION bank_apply_batch(text[], bigint[], bigint[], bigint[], text[], bigint[], bigint[],
                                text[], text[], int[], bigint[], int[], jsonb[])
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    SET enable_material = off
    SET jit = off;

ALTER FUNCTION bank_batch_targets(text[], bigint[])
    SET enable_hashjoin = on SET enable_mergejoin = on SET enable_material = on;
ALTER FUNCTION bank_batch_accounts(text[], bigint[], bigint[])
    SET enable_hashjoin = on SET enable_mergejoin = on SET enable_material = on;
ALTER FUNCTION bank_batch_keys(bigint[], text[])
    SET enable_hashjoin = on SET enable_mergejoin = on SET enable_material = on;
