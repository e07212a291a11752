#!/usr/bin/env bash
# bankd over HTTP against pgbench running the same transfer SQL, on one
# machine, in one run.
#
#   loadtest/bench.sh
#
# Starts a throw-away PostgreSQL 15 cluster, migrates and starts a Release
# bankd, creates funded accounts through the API, then measures with the same
# number of clients each:
#   pgbench        bench/transfer.sql (SERIALIZABLE, --max-tries=10, -M prepared),
#                  plain and inside \startpipeline;
#   bank-loadtest  closed model against bankd, integrity checked (audits every
#                  5 s rather than 1 s: each reads every account in one
#                  snapshot, load that pgbench does not carry);
#   wrk            bench/transfers.lua against bankd;
#   bank-loadtest  open model at half of bankd's peak rate (the p99 target).
# Prints one table (transfers/s and p99 of each, the bankd / pgbench ratios,
# bankd's RSS) and the targets, met or not. Exits 0 when everything ran and
# bank-loadtest found no integrity violation, whatever the numbers.
#
# The cluster runs with fsync and synchronous_commit off (scripts/lib/pg.sh's
# test profile) by default: on this kind of machine one fsync takes ~5 ms,
# which would cap both sides at the disk's rate and hide what is measured
# here, the CPU and round trips per transfer. BENCH_PG_PROFILE=dev runs durable.
#
# Environment (default):
#   BENCH_SECONDS (15)  BENCH_CLIENTS (16)  BENCH_ACCOUNTS (1000)
#   BENCH_THREADS (2)   bankd event-loop threads
#   BENCH_POOL_SIZE (16) bankd database connections
#   BENCH_PG_PORT (55437)  BENCH_PORT (18090)  BENCH_PG_PROFILE (test)
#   BENCH_DIR (build/bench)  logs, JSON, plots; the cluster lives there too
#   BENCH_SKIP_BUILD (0)  1: use the binaries already in build/release
#   BENCH_AUDIT_INTERVAL (5s)  bank-loadtest's audits during the load (0: none)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(dirname "$here")
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=bench

seconds=${BENCH_SECONDS:-15}
clients=${BENCH_CLIENTS:-16}
accounts=${BENCH_ACCOUNTS:-1000}
threads=${BENCH_THREADS:-2}
pool_size=${BENCH_POOL_SIZE:-16}
pg_port=${BENCH_PG_PORT:-55437}
http_port=${BENCH_PORT:-18090}
pg_profile=${BENCH_PG_PROFILE:-test}
audit_interval=${BENCH_AUDIT_INTERVAL:-5s}
work=${BENCH_DIR:-$root/build/bench}
bin=$root/build/release/bin
operator_key=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')  # 48 characters: bankd wants 32+
# Deposits so large that no account runs dry: pgbench aborts a client on the
# balance CHECK, and the comparison is of transfers, not refusals.
deposit=1000000000
amount_max=100
database=bankd_bench
database_url=postgresql://$PG_SUPERUSER@127.0.0.1:$pg_port/$database

datadir=
bankd_pid=
declare -A tps p99 note

msg() { printf 'bench: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e
  trap '' INT TERM HUP PIPE
  if [[ -n $bankd_pid ]] && kill -0 "$bankd_pid" 2>/dev/null; then
    kill -TERM "$bankd_pid"
    wait "$bankd_pid" 2>/dev/null
  fi
  if [[ -n $datadir ]]; then
    pg_stop "$datadir" || msg "could not stop the cluster in $datadir"
    rm -rf "$datadir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_deps() {
  if "$root/scripts/setup-deps.sh" --list 2>/dev/null | grep -q '^  bench '; then
    "$root/scripts/setup-deps.sh" build postgres bench
    return
  fi
  local pkg missing=()
  for pkg in wrk gnuplot-nox postgresql-15 postgresql-client-15; do
    dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) || { apt-get update -q && apt-get install -y -q "${missing[@]}"; }
}

build() {
  if [[ ${BENCH_SKIP_BUILD:-0} == 1 ]]; then return; fi
  msg "building bankd and bank-loadtest (Release)"
  (cd "$root" && cmake --preset release >/dev/null &&
    cmake --build --preset release --target bankd bank-loadtest)
}

start_cluster() {
  local base=$work
  mkdir -p "$base"
  if ! pg_owner_can_reach "$base"; then
    base=/var/tmp/bankd-bench-$(pg_path_hash "$root")
    mkdir -p "$base" && chmod 0755 "$base"
  fi
  pg_port_in_use "$pg_port" && die "port $pg_port is taken (BENCH_PG_PORT)"
  datadir=$base/pg
  rm -rf "$datadir"
  pg_init "$datadir" "$pg_profile"
  printf 'max_connections = 300\n' >>"$datadir/postgresql.conf"
  pg_start "$datadir" "$pg_port" "$(pg_socket_dir "$datadir" "$pg_port")" "$work/postgresql.log"
  pg_createdb_if_missing "$pg_port" "$database"
}

http_ok() {  # http_ok PATH: true when bankd answers 200
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$http_port"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
  IFS= read -r -t 2 line <&3 || true
  exec 3<&-
  [[ $line == "HTTP/1.1 200"* ]]
}

start_bankd() {
  pg_port_in_use "$http_port" && die "port $http_port is taken (BENCH_PORT)"
  export DATABASE_URL=$database_url PORT=$http_port POOL_SIZE=$pool_size THREADS=$threads
  export BANKD_OPERATOR_KEY=$operator_key LOG_LEVEL=warn
  "$bin/bankd" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; die "migration failed"; }
  "$bin/bankd" serve >"$work/bankd.log" 2>&1 &
  bankd_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    http_ok /readyz && return 0
    kill -0 "$bankd_pid" 2>/dev/null || { tail "$work/bankd.log" >&2; die "bankd exited"; }
    sleep 0.1
  done
  die "bankd is not ready after 10 s"
}

# The accounts pgbench and wrk use; pgbench addresses them as a range of ids.
# One connection: concurrent first account creations race to create the
# funding account, and the loser's sequence value leaves a hole in the range.
set_up_accounts() {
  BANKD_OPERATOR_KEY=$operator_key "$bin/bank-loadtest" --url "http://127.0.0.1:$http_port" \
    --accounts "$accounts" --deposit "$deposit" --setup-only --accounts-file "$work/accounts.csv" \
    --concurrency 1 \
    --progress off >/dev/null
  read -r first last count < <(awk -F, 'NR > 1 { if (!min || $1 < min) min = $1; if ($1 > max) max = $1; n++ }
                                        END { print min, max, n }' "$work/accounts.csv")
  ((last - first + 1 == count)) || die "account ids $first..$last are not contiguous; pgbench needs a range"
  account_first=$first
}

# p99 in ms of pgbench's per-transaction logs (third column: latency in µs).
pgbench_p99() {
  cat "$@" | awk '$3 != "failed" { print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1; printf "%.3f", v[i] / 1000 }'
}

run_pgbench() {  # run_pgbench NAME SCRIPT
  local name=$1 script=$2 out=$work/$1.log
  msg "pgbench $name: $clients clients, ${seconds}s"
  rm -f "$work/$name".log.*
  "$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U "$PG_SUPERUSER" -M prepared -c "$clients" -j 2 \
    -T "$seconds" --max-tries=10 -f "$script" -D first="$account_first" -D n="$accounts" \
    -l --log-prefix="$work/$name.log" "$database" >"$out" 2>&1 || { cat "$out" >&2; die "pgbench failed"; }
  tps[$name]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
  p99[$name]=$(pgbench_p99 "$work/$name".log.*)
  note[$name]="$(grep -E '^number of (failed|transactions retried)' "$out" | tr '\n' ' ')"
  rm -f "$work/$name".log.*
}

json_number() {  # json_number FILE KEY: first "KEY": number in bank-loadtest's JSON
  sed -n "s/^ *\"$2\": \\([-0-9.e+]*\\),\\{0,1\\}\$/\\1/p" "$1" | head -n 1
}

run_loadtest() {  # run_loadtest NAME [bank-loadtest options...]
  local name=$1 status=0
  shift
  msg "bank-loadtest $name: $*"
  rm -f -- "$work/$name.json"  # a failed run must not be reported with an earlier run's figures
  BANKD_OPERATOR_KEY=$operator_key "$bin/bank-loadtest" --url "http://127.0.0.1:$http_port" \
    --database-url "$database_url" --accounts "$accounts" --deposit "$deposit" --amount-max "$amount_max" \
    --duration "${seconds}s" --audit-interval "$audit_interval" --json "$work/$name.json" --plot "$work/$name.png" \
    --progress plain \
    "$@" >"$work/$name.txt" 2>"$work/$name.progress" || status=$?
  [[ -f $work/$name.json ]] || { cat "$work/$name.progress" >&2; die "bank-loadtest $name did not finish"; }
  tps[$name]=$(json_number "$work/$name.json" throughput)
  p99[$name]=$(json_number "$work/$name.json" p99)
  note[$name]="verdict $(sed -n 's/^ *"verdict": "\(.*\)",\{0,1\}$/\1/p' "$work/$name.json")"
  ((status == 0)) || integrity_failed=1
}

wrk_field() {  # wrk_field LINE NAME: the value of NAME=value in a WRK_RESULT line
  [[ $1 =~ (^| )$2=([^ ]*) ]] && printf '%s' "${BASH_REMATCH[2]}"
}

run_wrk() {
  local name=wrk out=$work/wrk.log line
  msg "wrk: $clients connections, ${seconds}s"
  wrk -t2 -c"$clients" -d"${seconds}s" -s "$here/bench/transfers.lua" "http://127.0.0.1:$http_port" \
    -- "$work/accounts.csv" "wrk$RANDOM" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
  line=$(grep '^WRK_RESULT' "$out") || { cat "$out" >&2; die "wrk printed no result"; }
  tps[$name]=$(awk -v r="$(wrk_field "$line" requests)" -v s="$(wrk_field "$line" seconds)" \
    'BEGIN { printf "%.1f", r / s }')
  p99[$name]=$(wrk_field "$line" p99_ms)
  note[$name]="non-2xx $(wrk_field "$line" non2xx), socket errors $(wrk_field "$line" errors)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = op == ">=" ? v >= t : v < t; print ok ? "met" : "NOT met" }'; }

print_table() {
  local name rss_kib hwm_kib peak half_rate=$1
  rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$bankd_pid/status")
  hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$bankd_pid/status")
  printf '\nbankd vs pgbench: %s clients, %s s per run, %s accounts, bankd %s threads / pool %s, PostgreSQL %s profile\n\n' \
    "$clients" "$seconds" "$accounts" "$threads" "$pool_size" "$pg_profile"
  printf '  %-34s %12s %10s   %s\n' "run" "transfers/s" "p99 ms" "notes"
  for name in pgbench_plain pgbench_pipelined bankd_loadtest wrk bankd_open_half_peak; do
    printf '  %-34s %12.1f %10.3f   %s\n' "$name" "${tps[$name]}" "${p99[$name]}" "${note[$name]}"
  done
  local r_plain r_pipe w_plain w_pipe
  r_plain=$(ratio "${tps[bankd_loadtest]}" "${tps[pgbench_plain]}")
  r_pipe=$(ratio "${tps[bankd_loadtest]}" "${tps[pgbench_pipelined]}")
  w_plain=$(ratio "${tps[wrk]}" "${tps[pgbench_plain]}")
  w_pipe=$(ratio "${tps[wrk]}" "${tps[pgbench_pipelined]}")
  printf '\n  %-46s %8s   %s\n' "ratio / target" "value" "target"
  printf '  %-46s %7sx   >= 1.0x %s\n' "bank-loadtest / pgbench plain" "$r_plain" "$(verdict "$r_plain" '>=' 1.0)"
  printf '  %-46s %7sx   >= 0.8x %s\n' "bank-loadtest / pgbench pipelined" "$r_pipe" "$(verdict "$r_pipe" '>=' 0.8)"
  printf '  %-46s %7sx   >= 1.0x %s\n' "wrk / pgbench plain" "$w_plain" "$(verdict "$w_plain" '>=' 1.0)"
  printf '  %-46s %7sx   >= 0.8x %s\n' "wrk / pgbench pipelined" "$w_pipe" "$(verdict "$w_pipe" '>=' 0.8)"
  printf '  %-46s %8s   < 5 ms %s\n' "p99 ms at half of peak ($half_rate/s)" "${p99[bankd_open_half_peak]}" \
    "$(verdict "${p99[bankd_open_half_peak]}" '<' 5)"
  printf '  %-46s %8s   < 64 MiB %s\n' "bankd RSS MiB now (peak $((hwm_kib / 1024)))" "$((rss_kib / 1024))" \
    "$(verdict "$hwm_kib" '<' 65536)"
  printf '\n  JSON, plots and logs: %s\n' "$work"
}

main() {
  integrity_failed=0
  install_deps
  build
  mkdir -p "$work"
  start_cluster
  start_bankd
  set_up_accounts
  run_pgbench pgbench_plain "$here/bench/transfer.sql"
  run_pgbench pgbench_pipelined "$here/bench/transfer_pipelined.sql"
  run_loadtest bankd_loadtest --concurrency "$clients"
  run_wrk
  local peak half
  peak=$(awk -v a="${tps[bankd_loadtest]}" -v b="${tps[wrk]}" 'BEGIN { print (a > b ? a : b) }')
  half=$(awk -v p="$peak" 'BEGIN { printf "%d", p / 2 }')
  run_loadtest bankd_open_half_peak --rate "$half" --concurrency 64
  print_table "$half"
  if ((integrity_failed)); then
    msg "bank-loadtest reported an integrity violation or an inconclusive run: see $work/*.txt"
    exit 1
  fi
}

main "$@"
