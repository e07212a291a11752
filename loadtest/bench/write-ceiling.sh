#!/usr/bin/env bash
# The write ceiling of one PostgreSQL primary with bankd's transfer SQL, for
# docs/scaling.md: pgbench on a throw-away cluster with durable commits
# (fsync and synchronous_commit on), removed however the run ends.
#
#   loadtest/bench/write-ceiling.sh            # about 1.5 min
#
# Runs, each CEILING_SECONDS (default 10) with CEILING_CLIENTS (16) clients:
#   single       one transfer per transaction, as bankd sends it today
#                (SERIALIZABLE; two balance updates and a ledger row)
#   batch:N      N such transfers in one SERIALIZABLE transaction
#   engine:N     what a batched transfer engine does: a session advisory lock
#                taken before BEGIN (one writer at a time, cluster-wide), then a
#                PL/pgSQL loop applying N transfers in one SERIALIZABLE
#                transaction, COMMIT, unlock
# and prints transactions/s and transfers/s of each, with pg_test_fsync's
# figure for the disk (the commit flush sets the single-writer pace).
#
# Environment: CEILING_SECONDS, CEILING_CLIENTS, CEILING_ACCOUNTS (10000),
# CEILING_BATCHES ("10 100"), CEILING_ENGINE_BATCHES ("100 1000").
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=write-ceiling

seconds=${CEILING_SECONDS:-10}
clients=${CEILING_CLIENTS:-16}
accounts=${CEILING_ACCOUNTS:-10000}
read -r -a batches <<<"${CEILING_BATCHES:-10 100}"
read -r -a engine_batches <<<"${CEILING_ENGINE_BATCHES:-100 1000}"

tmp=
# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e
  if [[ -n $tmp ]]; then
    pg_stop "$tmp/data"
    rm -rf -- "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT

"$root/scripts/setup-deps.sh" postgres

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bankd-ceiling.XXXXXX")
chmod 0755 "$tmp"
pg_init "$tmp/data" dev  # dev: fsync and synchronous_commit as PostgreSQL ships them (on)
port=$(pg_free_port 20000 10000)
pg_start "$tmp/data" "$port" "$(pg_socket_dir "$tmp/data" "$port")" "$tmp/postgresql.log"
pg_createdb_if_missing "$port" ceiling
psql_run() {
  "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d ceiling "$@"
}
for file in "$root"/sql/migrations/*.sql; do psql_run -f "$file" >/dev/null; done

# Accounts owned by the funding user (id 0) with balances that never run dry:
# a refused update would abort the pgbench client.
psql_run <<SQL
INSERT INTO accounts (user_id, currency, balance)
SELECT 0, 'EUR', 1000000000000 FROM generate_series(1, $accounts);
-- One transfer as the ledger takes it, for the engine's loop.
CREATE FUNCTION ceiling_apply(n int, first bigint, count int) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
  f bigint; t bigint; a bigint;
BEGIN
  FOR i IN 1..n LOOP
    f := first + floor(random() * count)::bigint;
    t := first + (f - first + 1 + floor(random() * (count - 1))::bigint) % count;
    a := 1 + floor(random() * 100)::bigint;
    UPDATE accounts SET balance = balance - a WHERE id = f;
    UPDATE accounts SET balance = balance + a WHERE id = t;
    INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key,
                           from_balance_after, from_held_after, to_balance_after, to_held_after)
    SELECT f, t, 'EUR', a, 0, 'eng-' || txid_current() || '-' || i, fa.balance, fa.held, ta.balance, ta.held
      FROM accounts fa, accounts ta WHERE fa.id = f AND ta.id = t;
  END LOOP;
END
\$\$;
VACUUM ANALYZE;
SQL
first=$(psql_run -tA -c "SELECT min(id) FROM accounts WHERE kind = 'customer'")

transfer_lines() {  # one transfer, pgbench variables suffixed with $1
  cat <<EOF
\\set from$1 :first + random(0, :n - 1)
\\set to$1 :first + (:from$1 - :first + random(1, :n - 1)) % :n
\\set amount$1 random(1, 100)
UPDATE accounts SET balance = balance - :amount$1 WHERE id = :from$1;
UPDATE accounts SET balance = balance + :amount$1 WHERE id = :to$1;
INSERT INTO transfers (from_account_id, to_account_id, currency, amount, initiated_by, idempotency_key, from_balance_after, from_held_after, to_balance_after, to_held_after) SELECT :from$1, :to$1, 'EUR', :amount$1, 0, 'pgb-' || txid_current() || '-$1', f.balance, f.held, t.balance, t.held FROM accounts f, accounts t WHERE f.id = :from$1 AND t.id = :to$1;
EOF
}

write_batch() {  # write_batch N FILE
  {
    echo 'BEGIN ISOLATION LEVEL SERIALIZABLE;'
    for ((i = 1; i <= $1; i++)); do transfer_lines "$i"; done
    echo 'END;'
  } >"$2"
}

write_engine() {  # write_engine N FILE
  cat >"$2" <<EOF
SELECT pg_advisory_lock(16);
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT ceiling_apply($1, :first, :n);
END;
SELECT pg_advisory_unlock(16);
EOF
}

declare -a rows=()
run() {  # run NAME PER_TX SCRIPT
  local name=$1 per_tx=$2 script=$3 out tps failed
  printf 'write-ceiling: %s, %s clients, %ss\n' "$name" "$clients" "$seconds" >&2
  out=$("$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -M prepared \
    -c "$clients" -j 2 -T "$seconds" --max-tries=10 -D first="$first" -D n="$accounts" \
    -f "$script" ceiling 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  rows+=("$(printf '%-12s %8.0f tx/s %10.0f transfers/s   failed %s' "$name" "$tps" \
    "$(awk -v t="$tps" -v n="$per_tx" 'BEGIN { printf "%.0f", t * n }')" "${failed:-0}")")
}

write_batch 1 "$tmp/single.sql"
run single 1 "$tmp/single.sql"
for n in "${batches[@]}"; do
  write_batch "$n" "$tmp/batch$n.sql"
  run "batch:$n" "$n" "$tmp/batch$n.sql"
done
for n in "${engine_batches[@]}"; do
  write_engine "$n" "$tmp/engine$n.sql"
  run "engine:$n" "$n" "$tmp/engine$n.sql"
done

fsync=$("$PG_BINDIR/pg_test_fsync" -s 2 -f "$tmp/data/fsync.test" 2>/dev/null |
  sed -n 's/^ *fdatasync *\([0-9.]*\) ops\/sec.*/\1/p' | head -n 1)
printf '\nwrite ceiling: PostgreSQL 15, fsync on, synchronous_commit on, %s accounts, %s cores\n' \
  "$accounts" "$(nproc)"
printf '%s\n' "${rows[@]}"
printf 'disk: pg_test_fsync fdatasync %s flushes/s\n' "${fsync:-?}"
