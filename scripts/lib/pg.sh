# shellcheck shell=bash
# Private PostgreSQL 15 clusters (and a free port) for the scripts: run.sh,
# test.sh, loadtest/bench.sh, container-test.sh, and (for the port) the
# tests in tests/contract/.
# Sourced, not run. Every function reports its own failure on stderr and
# returns non-zero; none relies on `set -e` (which `if f; then` disables).
#
# PostgreSQL refuses to run as root, so when EUID is 0 the server-side tools
# (initdb, pg_ctl) run as the `postgres` system user that Debian's package
# creates, and everything they touch must be reachable by that user. Clients
# (psql, createdb, pg_isready) connect over TCP to 127.0.0.1 as the cluster's
# superuser `bankd` with trust authentication and run as the caller.
#
# The clusters listen on 127.0.0.1 only and trust every local connection:
# they are for development and tests on one machine, never for real money.

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_SUPERUSER=bankd
PG_LOG_TAG=${PG_LOG_TAG:-pg}
PG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/pg.sh

pg_msg() { printf '%s: %s\n' "$PG_LOG_TAG" "$*" >&2; }

# Runs a server-side tool as the cluster owner: `postgres` when we are root.
# From / so that tools do not warn about a cwd postgres cannot enter.
pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# True when the cluster owner can traverse DIR (and so every parent of it).
pg_owner_can_reach() {
  pg_as_owner test -x "$1" 2>/dev/null
}

# Creates DIR (and parents) owned by the cluster owner, mode 0700.
pg_make_owned_dir() {
  mkdir -p "$1" || return 1
  if ((EUID == 0)); then chown postgres:postgres "$1" || return 1; fi
  chmod 0700 "$1"
}

# Creates FILE if needed so that the cluster owner can append to it.
pg_make_owned_file() {
  touch "$1" || return 1
  if ((EUID == 0)); then chown postgres:postgres "$1" || return 1; fi
}

# Short stable name for a path, for directories derived from it.
pg_path_hash() {
  printf '%s' "$1" | sha256sum | cut -c1-12
}

# True when something holds local TCP port PORT (any state, IPv4 or IPv6).
# Reads /proc so that it needs neither ss nor netstat.
pg_port_in_use() {
  local hex line table
  hex=$(printf '%04X' "$1")
  for table in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $table ]] || continue
    while read -r _ line _; do
      [[ ${line##*:} == "$hex" ]] && return 0
    done <"$table"
  done
  return 1
}

# True when something listens on local TCP port PORT. Unlike pg_port_in_use
# it ignores connections in TIME-WAIT, which a previous run on the port
# leaves for a minute: PostgreSQL and bankd bind over them (SO_REUSEADDR).
pg_port_listening() {
  local hex local_address state table
  hex=$(printf '%04X' "$1")
  for table in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $table ]] || continue
    while read -r _ local_address _ state _; do
      [[ ${local_address##*:} == "$hex" && $state == 0A ]] && return 0
    done <"$table"
  done
  return 1
}

# Prints a free TCP port. Starts at a random point below Linux's ephemeral
# range (32768+) so concurrent runs seldom pick the same one; the start can
# still lose a race, which callers handle by trying again.
pg_free_port() {
  local first=${1:-20000} count=${2:-10000} offset port i
  offset=$((RANDOM % count))
  for ((i = 0; i < count; i++)); do
    port=$((first + (offset + i) % count))
    if ! pg_port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  pg_msg "no free TCP port in $first-$((first + count - 1))"
  return 1
}

# Unix sockets paths are limited to 107 bytes. Prints DIR when the socket
# for PORT fits in it, else a short directory under /tmp named after DIR.
pg_socket_dir() {
  local dir=$1 port=$2 fallback
  if ((${#dir} + ${#port} + 11 <= 107)); then
    printf '%s\n' "$dir"
    return 0
  fi
  fallback=/tmp/bankd-sock-$(pg_path_hash "$dir")
  pg_make_owned_dir "$fallback" || return 1
  printf '%s\n' "$fallback"
}

# pg_init DATADIR dev|test
# Creates a PostgreSQL 15 cluster in DATADIR unless one is there already.
# `test` trades crash safety for speed: the cluster is thrown away anyway.
pg_init() {
  local datadir=$1 profile=$2 output version
  if [[ -f $datadir/PG_VERSION ]]; then
    version=$(<"$datadir/PG_VERSION")
    if [[ $version != 15 ]]; then
      pg_msg "$datadir holds a PostgreSQL $version cluster, not 15; move it away"
      return 1
    fi
    return 0
  fi
  local -a initdb_args=(-D "$datadir" --auth=trust -U "$PG_SUPERUSER"
                        --encoding=UTF8 --locale=C.UTF-8)
  local -a settings=("max_connections = 200")
  if [[ $profile == test ]]; then
    initdb_args+=(--no-sync)
    # Many tests each open pools and scratch databases, two test binaries at once.
    settings=("max_connections = 300" "fsync = off" "synchronous_commit = off"
              "full_page_writes = off")
  fi
  pg_make_owned_dir "$datadir" || return 1
  if ! output=$(pg_as_owner "$PG_BINDIR/initdb" "${initdb_args[@]}" 2>&1); then
    printf '%s\n' "$output" >&2
    pg_msg "initdb failed for $datadir"
    return 1
  fi
  printf '\n# Added by scripts/lib/pg.sh (%s cluster)\n' "$profile" >>"$datadir/postgresql.conf"
  printf '%s\n' "${settings[@]}" >>"$datadir/postgresql.conf"
}

pg_is_running() {
  [[ -f $1/PG_VERSION ]] && pg_as_owner "$PG_BINDIR/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# The port a running cluster listens on (line 4 of postmaster.pid).
pg_running_port() {
  sed -n 4p "$1/postmaster.pid"
}

# pg_wait_ready PORT [SECONDS]: waits until the server accepts connections.
pg_wait_ready() {
  local port=$1 seconds=${2:-60} deadline
  deadline=$((SECONDS + seconds))
  until "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres -t 2; do
    if ((SECONDS >= deadline)); then
      pg_msg "PostgreSQL on port $port is not ready after ${seconds}s"
      return 1
    fi
    sleep 0.2
  done
}

# pg_start DATADIR PORT SOCKDIR LOGFILE: starts the cluster unless it is
# running and returns once it accepts connections.
pg_start() {
  local datadir=$1 port=$2 sockdir=$3 logfile=$4
  if pg_is_running "$datadir"; then
    pg_wait_ready "$(pg_running_port "$datadir")"
    return
  fi
  if [[ $sockdir == *"'"* ]]; then
    pg_msg "socket directory must not contain a single quote: $sockdir"
    return 1
  fi
  pg_make_owned_file "$logfile" || return 1
  # pg_ctl hands -o to /bin/sh, hence the quotes around the socket directory.
  if ! pg_as_owner "$PG_BINDIR/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
      -o "-p $port -k '$sockdir' -c listen_addresses=127.0.0.1" start >/dev/null; then
    pg_msg "PostgreSQL did not start on port $port; end of $logfile:"
    tail -n 15 "$logfile" >&2
    return 1
  fi
  pg_wait_ready "$port"
}

# pg_stop DATADIR: fast shutdown (open sessions are ended); no-op when down.
pg_stop() {
  local datadir=$1
  pg_is_running "$datadir" || return 0
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null
}

# pg_createdb_if_missing PORT DBNAME
pg_createdb_if_missing() {
  local port=$1 db=$2 found
  # psql interpolates :'db' only in script input, not in -c.
  found=$("$PG_BINDIR/psql" -X -q -tA -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres \
            -v ON_ERROR_STOP=1 -v db="$db" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'") ||
    return 1
  [[ $found == 1 ]] && return 0
  "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" "$db"
}

# pg_write_ctl_script PATH DATADIR PORT SOCKDIR LOGFILE
# Writes an executable taking start | stop | restart for that cluster, for
# tests that need to take the server away (BANKD_TEST_PGCTL).
pg_write_ctl_script() {
  local path=$1 datadir=$2 port=$3 sockdir=$4 logfile=$5
  {
    printf '#!/usr/bin/env bash\n'
    printf '# Generated by scripts/lib/pg.sh: controls one throw-away test cluster.\n'
    printf 'set -euo pipefail\n'
    printf 'PG_BINDIR=%q PG_LOG_TAG=pgctl\n' "$PG_BINDIR"
    printf 'source %q\n' "$PG_LIB"
    printf 'datadir=%q port=%q sockdir=%q logfile=%q\n' "$datadir" "$port" "$sockdir" "$logfile"
    cat <<'EOF'
case "${1:-}" in
  start) pg_start "$datadir" "$port" "$sockdir" "$logfile" ;;
  stop) pg_stop "$datadir" ;;
  restart) pg_stop "$datadir" && pg_start "$datadir" "$port" "$sockdir" "$logfile" ;;
  *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
EOF
  } >"$path" && chmod 0755 "$path"
}
