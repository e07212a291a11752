#!/usr/bin/env bash
# bankd over HTTP against pgbench running the same transfer SQL, on one
# machine, in one run.
#
#   loadtest/bench.sh
#
# Starts a throw-away PostgreSQL 15 cluster (durable commits: fsync on),
# migrates and starts a Release bankd, creates funded accounts through the
# API, then measures, with the same number of clients each:
# pgbench runs without the event feed's trigger: the baseline is the transfer
# alone, and bankd writes its events on top of it.
#   pgbench_plain      bench/transfer.sql: one SERIALIZABLE transfer per
#                      transaction (--max-tries=10, -M prepared);
#   pgbench_pipelined  the same inside \startpipeline;
#   pgbench_engine     bench/transfer_engine.sql: the transfer engine's own
#                      function with BENCH_BATCH random transfers per
#                      transaction under its advisory lock: the database's
#                      ceiling for bankd's design;
#   bankd_single       bank-loadtest, POST /transfers, integrity checked;
#   wrk                bench/transfers.lua, POST /transfers;
#   bankd_batch        bank-loadtest --batch BENCH_BATCH (POST /transfers/batch);
#   bankd_hot4         bank-loadtest on 4 hot accounts;
#   bankd_half_peak    open model at half of bankd's single-transfer peak (p99);
#   bankd_100rps       open model at 100 requests/s (p50).
# Prints one table: transfers/s, p99, the ratio to pgbench plain, bankd's
# CPU time per transfer (utime + stime from /proc) and its RSS, then the
# targets, met or not. Exits 0 when everything ran and bank-loadtest found
# no integrity violation, whatever the numbers.
#
# Environment (default):
#   BENCH_SECONDS (15)  BENCH_CLIENTS (64)  BENCH_ACCOUNTS (1000)  BENCH_BATCH (100)
#   BENCH_THREADS (2)   bankd event-loop threads
#   BENCH_POOL_SIZE (16) bankd database connections
#   BENCH_PG_PORT (55437)  BENCH_PORT (18090)
#   BENCH_PG_PROFILE (dev: durable; test: fsync and synchronous_commit off)
#   BENCH_DIR (build/bench)  logs, JSON, plots; the cluster lives there too
#   BENCH_SKIP_BUILD (0)  1: use the binaries already in build/release
#   BENCH_AUDIT_INTERVAL (5s)  bank-loadtest's audits during the load (0: none)
#   BENCH_ONLY  space-separated run names to do (default: all)
#   BENCH_PG_CONF  extra postgresql.conf lines, for profiling: e.g.
#                  $'shared_preload_libraries = pg_stat_statements\npg_stat_statements.track = all'
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(dirname "$here")
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=bench

seconds=${BENCH_SECONDS:-15}
clients=${BENCH_CLIENTS:-64}
batch=${BENCH_BATCH:-100}
accounts=${BENCH_ACCOUNTS:-1000}
threads=${BENCH_THREADS:-2}
pool_size=${BENCH_POOL_SIZE:-16}
pg_port=${BENCH_PG_PORT:-55437}
http_port=${BENCH_PORT:-18090}
pg_profile=${BENCH_PG_PROFILE:-dev}
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
loadtest_pid=  # a bank-loadtest in the background, which Ctrl-C does not reach
declare -A tps p99 p50 note cpu_us

msg() { printf 'bench: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e
  trap '' INT TERM HUP PIPE
  [[ -n $loadtest_pid ]] && kill -TERM "$loadtest_pid" 2>/dev/null && wait "$loadtest_pid" 2>/dev/null
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
  pg_port_listening "$pg_port" && die "port $pg_port is taken (BENCH_PG_PORT)"
  datadir=$base/pg
  rm -rf "$datadir"
  pg_init "$datadir" "$pg_profile"
  printf 'max_connections = 300\n' >>"$datadir/postgresql.conf"
  if [[ -n ${BENCH_PG_CONF:-} ]]; then printf '%s\n' "$BENCH_PG_CONF" >>"$datadir/postgresql.conf"; fi
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
  pg_port_listening "$http_port" && die "port $http_port is taken (BENCH_PORT)"
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

wanted() { [[ -z ${BENCH_ONLY:-} || " $BENCH_ONLY " == *" $1 "* ]]; }

# bankd's CPU time so far, in clock ticks (utime + stime).
bankd_ticks() { awk '{ print $14 + $15 }' "/proc/$bankd_pid/stat"; }
cpu_per_transfer() {  # cpu_per_transfer NAME TICKS_BEFORE TRANSFERS: µs of bankd CPU per transfer
  local ticks=$(($(bankd_ticks) - $2))
  cpu_us[$1]=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "n/a" }')
}

# bankd's ticks once bank-loadtest (PID) has set up its accounts and starts
# the load, so that the CPU per transfer leaves out creating and funding
# them (thousands of requests that are not transfers).
ticks_at_load_start() {  # ticks_at_load_start PID PROGRESS_FILE
  while kill -0 "$1" 2>/dev/null && ! grep -q 'load started' "$2"; do sleep 0.02; done
  bankd_ticks
}

event_trigger() {  # event_trigger ENABLE|DISABLE
  "$PG_BINDIR/psql" -qX -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$PG_SUPERUSER" -d "$database" \
    -c "ALTER TABLE transfers $1 TRIGGER transfers_events" || die "could not $1 the event trigger"
}

run_pgbench() {  # run_pgbench NAME SCRIPT [transfers per transaction]
  local name=$1 script=$2 per=${3:-1} out=$work/$1.log aborted=
  wanted "$name" || return 0
  msg "pgbench $name: $clients clients, ${seconds}s"
  rm -f "$work/$name".log.*
  "$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U "$PG_SUPERUSER" -M prepared -c "$clients" -j 2 \
    -T "$seconds" --max-tries=10 -f "$script" -D first="$account_first" -D n="$accounts" -D batch="$batch" \
    -l --log-prefix="$work/$name.log" "$database" >"$out" 2>&1 || aborted=1
  tps[$name]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
  # A client that hits an error pgbench does not retry (SERIALIZABLE can run
  # out of shared conflict-tracking slots: "not enough elements in
  # RWConflictPool") ends the run early; its figures still stand, flagged.
  if [[ -n $aborted && -z ${tps[$name]} ]]; then cat "$out" >&2; die "pgbench failed"; fi
  tps[$name]=$(awk -v t="${tps[$name]}" -v p="$per" 'BEGIN { printf "%.1f", t * p }')
  p99[$name]=$(pgbench_p99 "$work/$name".log.*)
  note[$name]="$(grep -E '^number of (failed|transactions retried)' "$out" | tr '\n' ' ')"
  [[ -n $aborted ]] && note[$name]+="ABORTED early: $(grep -m1 -oE 'ERROR: .*' "$out")"
  rm -f "$work/$name".log.*
}

json_number() {  # json_number FILE KEY: first "KEY": number in bank-loadtest's JSON
  sed -n "s/^ *\"$2\": \\([-0-9.e+]*\\),\\{0,1\\}\$/\\1/p" "$1" | head -n 1
}

run_loadtest() {  # run_loadtest NAME [bank-loadtest options...]
  local name=$1 status=0 ticks
  shift
  wanted "$name" || return 0
  msg "bank-loadtest $name: $*"
  rm -f -- "$work/$name.json"  # a failed run must not be reported with an earlier run's figures
  # Emptied here, not only by the redirect below: the background child may
  # truncate it after ticks_at_load_start has already read an earlier run's
  # "load started".
  : >"$work/$name.progress"
  BANKD_OPERATOR_KEY=$operator_key "$bin/bank-loadtest" --url "http://127.0.0.1:$http_port" \
    --database-url "$database_url" --accounts "$accounts" --deposit "$deposit" --amount-max "$amount_max" \
    --duration "${seconds}s" --audit-interval "$audit_interval" --json "$work/$name.json" --plot "$work/$name.png" \
    --progress plain \
    "$@" >"$work/$name.txt" 2>"$work/$name.progress" &
  loadtest_pid=$!
  ticks=$(ticks_at_load_start "$loadtest_pid" "$work/$name.progress")
  wait "$loadtest_pid" || status=$?
  loadtest_pid=
  [[ -f $work/$name.json ]] || { cat "$work/$name.progress" >&2; die "bank-loadtest $name did not finish"; }
  tps[$name]=$(json_number "$work/$name.json" throughput)
  p99[$name]=$(json_number "$work/$name.json" p99)
  p50[$name]=$(json_number "$work/$name.json" p50)
  cpu_per_transfer "$name" "$ticks" "$(json_number "$work/$name.json" requests)"
  note[$name]="verdict $(sed -n 's/^ *"verdict": "\(.*\)",\{0,1\}$/\1/p' "$work/$name.json")"
  ((status == 0)) || integrity_failed=1
}

wrk_field() {  # wrk_field LINE NAME: the value of NAME=value in a WRK_RESULT line
  [[ $1 =~ (^| )$2=([^ ]*) ]] && printf '%s' "${BASH_REMATCH[2]}"
}

run_wrk() {
  local name=wrk out=$work/wrk.log line ticks
  wanted "$name" || return 0
  msg "wrk: $clients connections, ${seconds}s"
  ticks=$(bankd_ticks)
  wrk -t2 -c"$clients" -d"${seconds}s" -s "$here/bench/transfers.lua" "http://127.0.0.1:$http_port" \
    -- "$work/accounts.csv" "wrk$RANDOM" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
  line=$(grep '^WRK_RESULT' "$out") || { cat "$out" >&2; die "wrk printed no result"; }
  tps[$name]=$(awk -v r="$(wrk_field "$line" requests)" -v s="$(wrk_field "$line" seconds)" \
    'BEGIN { printf "%.1f", r / s }')
  p99[$name]=$(wrk_field "$line" p99_ms)
  cpu_per_transfer "$name" "$ticks" "$(wrk_field "$line" requests)"
  note[$name]="non-2xx $(wrk_field "$line" non2xx), socket errors $(wrk_field "$line" errors)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() {
  awk -v v="$1" -v op="$2" -v t="$3" \
    'BEGIN { if (v !~ /^[0-9.]+$/) { print "not measured"; exit } ok = op == ">=" ? v >= t : v < t; print ok ? "met" : "NOT met" }'
}

print_table() {
  local name rss_kib hwm_kib half_rate=$1 plain=${tps[pgbench_plain]:-0}
  rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$bankd_pid/status")
  hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$bankd_pid/status")
  printf '\nbankd vs pgbench: %s clients, %s s per run, %s accounts, batches of %s, bankd %s threads / pool %s, PostgreSQL %s profile, %s cores\n\n' \
    "$clients" "$seconds" "$accounts" "$batch" "$threads" "$pool_size" "$pg_profile" "$(nproc)"
  printf '  %-20s %12s %9s %9s %10s   %s\n' "run" "transfers/s" "p99 ms" "x plain" "bankd µs" "notes"
  for name in pgbench_plain pgbench_pipelined pgbench_engine bankd_single wrk bankd_batch bankd_hot4 \
              bankd_half_peak bankd_100rps; do
    [[ -n ${tps[$name]:-} ]] || continue
    printf '  %-20s %12.1f %9.3f %8sx %10s   %s\n' "$name" "${tps[$name]}" "${p99[$name]:-0}" \
      "$(ratio "${tps[$name]}" "$plain")" "${cpu_us[$name]:-}" "${note[$name]:-}"
  done
  local single best_single
  best_single=$(awk -v a="${tps[bankd_single]:-0}" -v b="${tps[wrk]:-0}" 'BEGIN { print (a > b ? a : b) }')
  single=$(ratio "$best_single" "$plain")
  printf '\n  %-50s %9s   %s\n' "target" "value" ""
  printf '  %-50s %8sx   >= 2.0x %s\n' "single transfers over HTTP / pgbench plain" "$single" "$(verdict "$single" '>=' 2.0)"
  if [[ -n ${tps[bankd_batch]:-} ]]; then
    local b
    b=$(ratio "${tps[bankd_batch]}" "$plain")
    printf '  %-50s %8sx   >= 4.0x %s\n' "batch API / pgbench plain" "$b" "$(verdict "$b" '>=' 4.0)"
  fi
  if [[ -n ${tps[bankd_hot4]:-} ]]; then
    local h
    h=$(ratio "${tps[bankd_hot4]}" "${tps[bankd_single]:-0}")
    printf '  %-50s %8sx   >= 0.8x %s\n' "hot:4 / uniform (bank-loadtest)" "$h" "$(verdict "$h" '>=' 0.8)"
    printf '  %-50s %9s   < 20 ms %s\n' "hot:4 p99 ms" "${p99[bankd_hot4]}" "$(verdict "${p99[bankd_hot4]}" '<' 20)"
    printf '  %-50s %9s   = 0 %s\n' "hot:4 answers 503 retries_exhausted" "${retries_503:-0}" \
      "$( ((${retries_503:-0} == 0)) && echo met || echo NOT met)"
  fi
  [[ -n ${p99[bankd_half_peak]:-} ]] &&
    printf '  %-50s %9s   < 5 ms %s\n' "p99 ms at half of peak ($half_rate/s)" "${p99[bankd_half_peak]}" \
      "$(verdict "${p99[bankd_half_peak]}" '<' 5)"
  [[ -n ${p50[bankd_100rps]:-} ]] && printf '  %-50s %9s\n' "p50 ms at 100 requests/s" "${p50[bankd_100rps]}"
  printf '  %-50s %9s   < 64 MiB %s\n' "bankd RSS MiB now (peak $((hwm_kib / 1024)))" "$((rss_kib / 1024))" \
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
  # The baseline is the transfer alone: pgbench runs without the event
  # feed's trigger (migration 014), bankd with it, writing its events on top.
  event_trigger DISABLE
  run_pgbench pgbench_plain "$here/bench/transfer.sql"
  run_pgbench pgbench_pipelined "$here/bench/transfer_pipelined.sql"
  run_pgbench pgbench_engine "$here/bench/transfer_engine.sql" "$batch"
  event_trigger ENABLE
  run_loadtest bankd_single --concurrency "$clients"
  run_wrk
  run_loadtest bankd_batch --concurrency "$clients" --batch "$batch"
  run_loadtest bankd_hot4 --concurrency "$clients" --distribution hot:4
  [[ -f $work/bankd_hot4.json ]] &&
    retries_503=$(grep -o '"503 retries_exhausted": [0-9]*' "$work/bankd_hot4.json" | grep -o '[0-9]*$' || echo 0)
  local peak half
  peak=$(awk -v a="${tps[bankd_single]:-0}" -v b="${tps[wrk]:-0}" 'BEGIN { print (a > b ? a : b) }')
  half=$(awk -v p="$peak" 'BEGIN { printf "%d", p / 2 }')
  ((half > 0)) && run_loadtest bankd_half_peak --rate "$half" --concurrency 64
  run_loadtest bankd_100rps --rate 100 --concurrency 16
  print_table "$half"
  if ((integrity_failed)); then
    msg "bank-loadtest reported an integrity violation or an inconclusive run: see $work/*.txt"
    exit 1
  fi
}

main "$@"
