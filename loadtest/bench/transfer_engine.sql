-- pgbench: the transfer engine's own SQL with :batch random transfers per
-- transaction, under the engine's advisory lock taken before BEGIN and
-- released after COMMIT, as bankd sends it (service/bank/engine.cpp). The
-- database's ceiling for this design: bankd can only add to it.
-- Accounts :first .. :first + :n - 1 with balances that never run dry.
SELECT pg_advisory_lock(7089068695995725944);
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*)
  FROM (SELECT array_agg('transfer'::text ORDER BY g) AS kinds, array_agg(f ORDER BY g) AS froms,
               array_agg(:first + (f - :first + d) % :n ORDER BY g) AS tos, array_agg(amount ORDER BY g) AS amounts,
               array_agg(NULL::text ORDER BY g) AS currencies, array_agg(NULL::bigint ORDER BY g) AS owners,
               array_agg(0::bigint ORDER BY g) AS initiators,
               array_agg('pgb-' || txid_current() || '-' || g ORDER BY g) AS keys,
               array_agg(NULL::text ORDER BY g) AS refs, array_agg(0 ORDER BY g) AS groups
          FROM (SELECT g, :first + floor(random() * :n)::bigint AS f, 1 + floor(random() * (:n - 1))::bigint AS d,
                       1 + floor(random() * 100)::bigint AS amount
                  FROM generate_series(1, :batch) g) ev) b,
       LATERAL bank_apply_batch(b.kinds, b.froms, b.tos, b.amounts, b.currencies, b.owners, b.initiators,
                                b.keys, b.refs, b.groups) r
 WHERE r.status = 'committed';
COMMIT;
SELECT pg_advisory_unlock(7089068695995725944);
