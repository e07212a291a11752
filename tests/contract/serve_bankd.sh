# shellcheck shell=bash
# Sourced by the contract test scripts: runs the built bankd on a free port
# of 127.0.0.1 until the script exits.
#
#   serve_bankd BANKD DATABASE_URL LOG   sets bankd_port and bankd_pid
#   stop_bankd                           SIGTERM, then wait (also on EXIT)
#
# The caller sets operator_key and has sourced scripts/lib/pg.sh (pg_free_port).

bankd_pid=
bankd_port=

stop_bankd() {
  [[ -n $bankd_pid ]] || return 0
  kill -TERM "$bankd_pid" 2>/dev/null || true
  wait "$bankd_pid" 2>/dev/null || true
  bankd_pid=
}

serve_bankd() {
  local bankd=$1 database_url=$2 log=$3 _
  for _ in 1 2 3; do  # a free port can be taken before bankd binds it
    bankd_port=$(pg_free_port 20000 20000)
    # The key in the environment, not on the command line (ps shows that).
    BANKD_OPERATOR_KEY=${operator_key:?} "$bankd" serve --listen-address 127.0.0.1 --port "$bankd_port" \
      --threads 1 --pool-size 2 --database-url "$database_url" >"$log" 2>&1 &
    bankd_pid=$!
    for _ in {1..100}; do
      grep -q 'bankd.started' "$log" && return 0
      kill -0 "$bankd_pid" 2>/dev/null || break
      sleep 0.05
    done
    stop_bankd
  done
  cat "$log" >&2
  printf 'could not start bankd\n' >&2
  return 1
}
