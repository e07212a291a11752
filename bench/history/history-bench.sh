#!/usr/bin/env bash
# The cost of an account's past against the size of the ledger: a history
# page, a statement page and balance?at= on an account with 1,000 rows, in
# ledgers of (by default) 10^4 and 10^7 rows.
#
#   bench/history/history-bench.sh
#
# Starts a throw-away PostgreSQL 15 cluster, and for each size migrates a
# database with bankd and fills it with generate.sql (rows written straight
# into the tables). One bankd serves each database in turn; wrk measures each
# endpoint for a few seconds with a few connections, on URLs in the middle of
# the account's year (not the newest rows, which any cache would favour).
# auto_explain logs a request of each endpoint with EXPLAIN (ANALYZE,
# BUFFERS): the plans bankd's own prepared statements use, once warm. Prints one table
# (p50, p99, requests/s per endpoint and size) and the plans, and leaves them
# in $HISTORY_BENCH_DIR; the cluster is removed on exit.
#
# Environment (default):
#   HISTORY_BENCH_ROWS ("10000 10000000")  ledger sizes
#   HISTORY_BENCH_SECONDS (5)  wrk duration per endpoint
#   HISTORY_BENCH_CONNECTIONS (4)
#   HISTORY_BENCH_DIR (build/history-bench)  the cluster, logs and results
#   HISTORY_BENCH_PG_PORT (55447)  HISTORY_BENCH_PORT (18095)
#   BANKD_BIN (build/release/bin/bankd, else build/ci/bin/bankd)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=history-bench

sizes=${HISTORY_BENCH_ROWS:-"10000 10000000"}
seconds=${HISTORY_BENCH_SECONDS:-5}
connections=${HISTORY_BENCH_CONNECTIONS:-4}
work=${HISTORY_BENCH_DIR:-$root/build/history-bench}
pg_port=${HISTORY_BENCH_PG_PORT:-55447}
http_port=${HISTORY_BENCH_PORT:-18095}
bankd=${BANKD_BIN:-}
if [[ -z $bankd ]]; then
  bankd=$root/build/release/bin/bankd
  [[ -x $bankd ]] || bankd=$root/build/ci/bin/bankd
fi
[[ -x $bankd ]] || { pg_msg "no bankd binary: build first or set BANKD_BIN"; exit 1; }
command -v wrk >/dev/null || { pg_msg "wrk is needed: scripts/setup-deps.sh bench"; exit 1; }
key=history-bench-key-$RANDOM$RANDOM
account=2  # generate.sql's account with 1,000 rows
bankd_pid=

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  if [[ -n $bankd_pid ]]; then kill "$bankd_pid" 2>/dev/null || true; wait "$bankd_pid" 2>/dev/null || true; fi
  pg_stop "$work/data" || true
  rm -rf "$work/data"  # 4 GB at 10^7 rows; the results stay
}
trap cleanup EXIT

mkdir -p "$work"
chmod 0755 "$work"
rm -rf "$work/data"
pg_init "$work/data" test
cat >>"$work/data/postgresql.conf" <<'EOF'
shared_buffers = 512MB
maintenance_work_mem = 512MB
# One logged plan per endpoint, switched on per request below.
shared_preload_libraries = 'auto_explain'
auto_explain.log_analyze = on
auto_explain.log_buffers = on
auto_explain.log_timing = on
auto_explain.log_nested_statements = on
auto_explain.log_min_duration = -1
EOF
sockdir=$(pg_socket_dir "$work/data" "$pg_port")
pg_start "$work/data" "$pg_port" "$sockdir" "$work/postgresql.log"
psql_at() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$PG_SUPERUSER" "$@"; }

# One number from wrk's report: the latency percentile $2 (50%, 99%) or "rps".
wrk_value() {
  local file=$1 what=$2
  if [[ $what == rps ]]; then awk '/Requests\/sec/ {print $2}' "$file"; return; fi
  awk -v p="$what" '$1 == p {print $2}' "$file"
}

results=$work/results.txt
: >"$results"
for rows in $sizes; do
  db=history_$rows
  url="postgresql://$PG_SUPERUSER@127.0.0.1:$pg_port/$db"
  psql_at -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  "$bankd" migrate --database-url "$url" >"$work/migrate-$rows.log" 2>&1
  pg_msg "writing $rows ledger rows"
  start=$SECONDS
  psql_at -d "$db" -v rows="$rows" -f "$here/generate.sql" >/dev/null
  pg_msg "  done in $((SECONDS - start)) s; $(psql_at -d "$db" -tAc "SELECT pg_size_pretty(pg_total_relation_size('transfers'))") of transfers"

  # The middle of the account's year: a history page before its 500th row, a
  # statement page from its 500th row, its balance a moment after its 500th.
  middle=$(psql_at -d "$db" -tAc "SELECT id FROM account_entries WHERE account_id = $account ORDER BY created_at, id OFFSET 499 LIMIT 1")
  at=$(psql_at -d "$db" -tAc "SELECT to_char((created_at + interval '1 minute') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM transfers WHERE id = $middle")
  from=$(psql_at -d "$db" -tAc "SELECT rfc3339(created_at) FROM transfers WHERE id = $middle")
  declare -A paths=(
    [history]="/accounts/$account/transfers?before=$middle&limit=50"
    [statement]="/accounts/$account/statement?from=$from&to=2026-12-31T00:00:00Z&limit=100"
    [balance_at]="/accounts/$account/balance?at=$at"
  )

  "$bankd" serve --database-url "$url" --listen-address 127.0.0.1 --port "$http_port" --threads 2 --pool-size 8 \
    --operator-key "$key" --log-level warn >"$work/bankd-$rows.log" 2>&1 &
  bankd_pid=$!
  for _ in {1..50}; do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.2; done
  for name in history statement balance_at; do
    target="http://127.0.0.1:$http_port${paths[$name]}"
    curl -sf -H "Authorization: Bearer $key" "$target" >"$work/$name-$rows.json"
    wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$target" >"$work/wrk-$name-$rows.txt"
    printf '%s %s %s %s %s\n' "$rows" "$name" "$(wrk_value "$work/wrk-$name-$rows.txt" 50%)" \
      "$(wrk_value "$work/wrk-$name-$rows.txt" 99%)" "$(wrk_value "$work/wrk-$name-$rows.txt" rps)" >>"$results"
  done
  kill "$bankd_pid"
  wait "$bankd_pid" 2>/dev/null || true
  bankd_pid=

  # The plans: every statement of bankd's new sessions is logged with
  # EXPLAIN ANALYZE. One connection runs each endpoint 7 times, and the
  # plans of the last round are kept: past the fifth execution PostgreSQL
  # may switch a prepared statement to its generic plan, the one wrk timed.
  psql_at -d postgres -c "ALTER DATABASE $db SET auto_explain.log_min_duration = 0"
  "$bankd" serve --database-url "$url" --listen-address 127.0.0.1 --port "$http_port" --threads 1 --pool-size 1 \
    --operator-key "$key" --log-level warn >>"$work/bankd-$rows.log" 2>&1 &
  bankd_pid=$!
  for _ in {1..50}; do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.2; done
  for round in {1..7}; do
    if [[ $round == 7 ]]; then log_offset=$(stat -c %s "$work/postgresql.log"); fi
    for name in history statement balance_at; do
      curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:$http_port${paths[$name]}" >/dev/null
    done
  done
  kill "$bankd_pid"
  wait "$bankd_pid" 2>/dev/null || true
  bankd_pid=
  psql_at -d postgres -c "ALTER DATABASE $db RESET auto_explain.log_min_duration"
  tail -c +"$((log_offset + 1))" "$work/postgresql.log" |
    awk -f "$here/plans.awk" >"$work/plans-$rows.txt"
done

printf '\n%-10s %-11s %10s %10s %10s\n' "rows" "endpoint" "p50" "p99" "req/s"
while read -r rows name p50 p99 rps; do
  printf '%-10s %-11s %10s %10s %10s\n' "$rows" "$name" "$p50" "$p99" "$rps"
done <"$results"
for rows in $sizes; do
  printf '\nPlans with %s ledger rows (auto_explain, the seventh request of each):\n' "$rows"
  cat "$work/plans-$rows.txt"
done
