#!/usr/bin/env bash
# Builds bankd (Release) and runs it in the foreground; Ctrl-C stops it.
#
#   scripts/run.sh [bankd serve options...]      e.g. --threads 2 --log-level debug
#
# Without DATABASE_URL, bankd uses a PostgreSQL 15 cluster of this checkout's
# own: created on the first run in .local/pg, started when it is not running
# and stopped again on exit if this script started it. With DATABASE_URL set,
# nothing local is started.
#
# Two database roles, as in production: migrations run as the owner (the
# local cluster's superuser, or DATABASE_URL's user), and bankd serves as
# bankd_serve, a member of the group role that migration 007 makes
# (<database>_app) and nothing more (docs/security.md).
#
# Environment:
#   DATABASE_URL   database to use instead of the local cluster (migrations run as its user)
#   BANKD_SERVE_DATABASE_URL  with DATABASE_URL: what bankd serves as (default DATABASE_URL)
#   PORT           HTTP port of bankd (default 8080)
#   PGPORT_LOCAL   TCP port of the local cluster (default 54329)
#   BANKD_OPERATOR_KEY_FILE  file with the operator key(s); without it (and
#                  without BANKD_OPERATOR_KEY) a random key is kept in
#                  .local/operator-key (mode 0600), and a header line for
#                  curl -H @FILE in .local/operator-key.header
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
PG_LOG_TAG=run.sh

bankd=$root/build/release/bin/bankd
datadir=
started_cluster=
bankd_pid=

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e  # finish cleaning up whatever fails (even writing to a closed pipe)
  trap '' INT TERM HUP PIPE
  if [[ -n $bankd_pid ]] && kill -0 "$bankd_pid" 2>/dev/null; then
    kill -TERM "$bankd_pid" 2>/dev/null || true
    wait "$bankd_pid" 2>/dev/null || true
  fi
  if [[ -n $started_cluster ]]; then
    pg_msg "stopping the local PostgreSQL cluster"
    pg_stop "$datadir" || pg_msg "could not stop the cluster in $datadir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Picks where the local cluster lives: .local/ unless the postgres user (we
# are root) cannot get there, as for a checkout under /root.
cluster_base() {
  local base=$root/.local
  mkdir -p "$base"
  if ! pg_owner_can_reach "$base"; then
    base=/var/tmp/bankd-$(pg_path_hash "$root")
    mkdir -p "$base"
    chmod 0755 "$base"
    pg_msg "the postgres user cannot enter $root, so the local cluster lives in $base"
  fi
  printf '%s\n' "$base"
}

start_local_cluster() {
  local base port sockdir
  base=$(cluster_base)
  datadir=$base/pg
  if [[ ! -f $datadir/PG_VERSION ]]; then
    pg_msg "creating a PostgreSQL 15 cluster in $datadir"
  fi
  pg_init "$datadir" dev
  if pg_is_running "$datadir"; then
    port=$(pg_running_port "$datadir")
    pg_msg "reusing the running cluster in $datadir (port $port); it keeps running after bankd stops"
    pg_wait_ready "$port"
  else
    port=${PGPORT_LOCAL:-54329}
    if pg_port_listening "$port"; then
      pg_msg "port $port is taken by something else; choose another with PGPORT_LOCAL=<port>"
      return 1
    fi
    sockdir=$(pg_socket_dir "$datadir" "$port")
    started_cluster=1
    pg_start "$datadir" "$port" "$sockdir" "$base/postgresql.log"
    pg_msg "started PostgreSQL 15 from $datadir on 127.0.0.1:$port (log: $base/postgresql.log)"
  fi
  pg_createdb_if_missing "$port" bankd
  export DATABASE_URL="postgresql://bankd@127.0.0.1:$port/bankd"
  serve_url="postgresql://bankd_serve@127.0.0.1:$port/bankd"
  local_port=$port
  pg_msg "DATABASE_URL=$DATABASE_URL (migrations); bankd serves as $serve_url"
}

# The local cluster's login role for `bankd serve`, once migration 007 made
# the group it joins.
ensure_serve_role() {
  "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$local_port" -U "$PG_SUPERUSER" -d bankd -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bankd_serve') THEN
    CREATE ROLE bankd_serve LOGIN IN ROLE bankd_app;
  END IF;
END $$;
SQL
}

# A local operator key, so a fresh checkout can create users and deposit
# money at once; the same key on every start, kept out of git in .local/.
# bankd reads it from the file: it never appears on a command line.
ensure_operator_key() {
  [[ -n ${BANKD_OPERATOR_KEY:-}${BANKD_OPERATOR_KEY_FILE:-} ]] && return
  local file=$root/.local/operator-key
  if [[ ! -s $file ]]; then
    mkdir -p "$root/.local"
    (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > "$file")
  fi
  # For curl -H @FILE (printf is a builtin: the key is in no process's arguments).
  (umask 077 && printf 'Authorization: Bearer %s\n' "$(<"$file")" > "$file.header")
  export BANKD_OPERATOR_KEY_FILE=$file
  pg_msg "operator key in $file; curl -H @$file.header sends it"
}

"$root/scripts/setup-deps.sh" build postgres
# For /openapi.json and /docs; bankd serves /openapi.yaml without them.
"$root/scripts/npm-tools.sh" --build

cd "$root"
cmake --preset release
cmake --build --preset release -j "$(nproc)"

serve_url=${BANKD_SERVE_DATABASE_URL:-}
local_port=
if [[ -n ${DATABASE_URL:-} ]]; then
  pg_msg "using DATABASE_URL from the environment; no local cluster is started"
else
  start_local_cluster
fi

"$bankd" migrate
[[ -n $local_port ]] && ensure_serve_role
ensure_operator_key

export PORT=${PORT:-8080}
if [[ -n $started_cluster ]]; then
  pg_msg "bankd on port $PORT; Ctrl-C stops bankd and then the local cluster"
else
  pg_msg "bankd on port $PORT; Ctrl-C stops it"
fi

# bankd runs in a session of its own so that a Ctrl-C reaches it once, from
# here, rather than twice (terminal and forward); a second signal while it
# drains would cut the drain short.
# shellcheck disable=SC2317 # run from the INT/TERM/HUP traps
forward() {
  kill -s "$1" "$bankd_pid" 2>/dev/null || true
}
DATABASE_URL=${serve_url:-$DATABASE_URL} setsid "$bankd" serve "$@" &
bankd_pid=$!
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward TERM' HUP

# A trapped signal interrupts `wait`; wait again until bankd is gone, then
# once more for its exit status, which bash keeps.
wait "$bankd_pid" || true
while kill -0 "$bankd_pid" 2>/dev/null; do
  wait "$bankd_pid" || true
done
status=0
wait "$bankd_pid" || status=$?
bankd_pid=
pg_msg "bankd exited with status $status"
exit "$status"
