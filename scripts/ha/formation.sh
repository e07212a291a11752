#!/usr/bin/env bash
# A pg_auto_failover formation on loopback for failover tests: one monitor and
# two PostgreSQL 15 nodes with synchronous replication and automatic
# promotion, all run by pg_autoctl as the `postgres` user, all in one
# directory that `stop` removes.
#
#   scripts/ha/formation.sh [--dir DIR] COMMAND
#
# Commands:
#   start               build the formation and wait until it has a primary
#                       and a synchronous secondary (about 15-40 s); prints
#                       the multi-host DATABASE_URL
#   stop                stop every keeper and server, remove DIR
#   status              pg_autoctl show state
#   url [standby-first] the multi-host URL (target_session_attrs=read-write),
#                       with the secondary first when asked
#   primary | secondary the node's name (node1, node2), empty when there is none
#   kill-primary        SIGKILL the primary's keeper, postmaster and every
#                       backend at once (a machine crash); prints the node
#   stall-replication   SIGSTOP the primary's WAL senders: with synchronous
#                       replication commits wait, with async they go on and
#                       are acknowledged without reaching the standby
#   rejoin              start the keeper of every node that is not running
#   wait-healthy [S]    wait (default 60 s) for one primary + one secondary
#   async | sync        replication-quorum false | true on both nodes: async
#                       is the negative control (acknowledged commits may be
#                       lost on failover), sync the default
#
# DIR defaults to $BANKD_HA_DIR or .local/ha in the repository. Needs root
# (or the postgres user) and `scripts/setup-deps.sh ha`.
#
# Monitor settings (pg_auto_failover's defaults in brackets). A killed
# primary is promoted away from once the monitor has seen it fail its health
# checks and not report for node_considered_unhealthy_timeout, and then after
# primary_demote_timeout, the time an unreachable primary is given to demote
# itself. Measured here: 51 s with the defaults, about 8 s with these.
#   health_check_period               1000 ms [5000]  how often it checks
#   health_check_timeout              1000 ms [5000]  connect timeout of a check
#   health_check_max_retries          1       [2]     retries before "failed"
#   health_check_retry_delay           500 ms [2000]
#   node_considered_unhealthy_timeout 2000 ms [20000] no report from the keeper
#   primary_demote_timeout            5000 ms [30000]
# Keeper setting: timeout.network_partition_timeout 3 s [20]. A primary that
# can reach neither the monitor nor its standby for this long demotes itself;
# it must stay below primary_demote_timeout so that a partitioned old primary
# has stopped taking writes before its standby is promoted. (With
# synchronous replication it could not commit anyway: its standby is gone.)
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=formation.sh

declare -A monitor_settings=(
  [health_check_period]=1000
  [health_check_timeout]=1000
  [health_check_max_retries]=1
  [health_check_retry_delay]=500
  [node_considered_unhealthy_timeout]=2000
  [primary_demote_timeout]=5000
)
network_partition_timeout=3
nodes=(node1 node2)

monitor_port='' node1_port='' node2_port=''  # from DIR/formation.env (load_env)
dir=${BANKD_HA_DIR:-$root/.local/ha}
if [[ ${1:-} == --dir ]]; then
  dir=$2
  shift 2
fi
command=${1:-}
shift || true

die() { pg_msg "$*"; exit 1; }

# pg_autoctl keeps its configuration and state under XDG directories: ours
# live in DIR so that nothing outlives `stop`.
autoctl() {
  pg_as_owner env XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" \
    XDG_RUNTIME_DIR="$dir/xdg/run" pg_autoctl "$@"
}

load_env() {
  [[ -f $dir/formation.env ]] || die "no formation in $dir (run: $0 --dir $dir start)"
  # shellcheck source=/dev/null
  source "$dir/formation.env"
}

port_of() {
  case $1 in
    monitor) echo "$monitor_port" ;;
    node1) echo "$node1_port" ;;
    node2) echo "$node2_port" ;;
  esac
}

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"; }

monitor_sql() {
  "$PG_BINDIR/psql" -X -q -tA -h 127.0.0.1 -p "$monitor_port" -U postgres -d pg_auto_failover \
    -v ON_ERROR_STOP=1 -c "$1"
}

# A monitor function that changes a node's goal state can deadlock with the
# monitor's own node_active() calls (seen in CI: 40P01 on pgautofailover.node);
# PostgreSQL has already rolled the loser back, so it is simply tried again.
monitor_call() {
  local attempt out
  for attempt in 1 2 3 4 5; do
    if out=$(monitor_sql "$1" 2>&1); then return 0; fi
    [[ $out == *"deadlock detected"* || $out == *"could not serialize"* ]] || break
    pg_msg "monitor call retried after attempt $attempt: ${out%%$'\n'*}"
    sleep 0.5
  done
  printf '%s\n' "$out" >&2
  return 1
}

node_sql() {
  "$PG_BINDIR/psql" -X -q -tA -h 127.0.0.1 -p "$(port_of "$1")" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "$2"
}

# The multi-host URL; with `standby-first`, the secondary is listed first.
database_url() {
  local first=$node1_port second=$node2_port
  if [[ ${1:-} == standby-first && $(role_node secondary/secondary) == node1 ]]; then
    :
  elif [[ ${1:-} == standby-first ]]; then
    first=$node2_port second=$node1_port
  fi
  echo "postgresql://bankd@127.0.0.1:$first,127.0.0.1:$second/bankd?target_session_attrs=read-write&connect_timeout=2"
}

# Starts `pg_autoctl run` for PGDATA in a session of its own, so that the
# session id (written to NAME.pgid) reaches the keeper and its postmaster.
run_keeper() {
  local name=$1
  pg_make_owned_file "$dir/$name.log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/$name.pgid" \
    runuser -u postgres -- env XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" \
    XDG_RUNTIME_DIR="$dir/xdg/run" pg_autoctl run --pgdata "$dir/$name" \
    </dev/null >>"$dir/$name.log" 2>&1 &
  for _ in {1..50}; do [[ -s $dir/$name.pgid ]] && return 0; sleep 0.1; done
  die "the keeper of $name did not start"
}

keeper_running() {
  [[ -s $dir/$1.pgid ]] && kill -0 -- "-$(<"$dir/$1.pgid")" 2>/dev/null
}

# node name -> the monitor's reported and assigned states, "reported/assigned".
node_states() {
  monitor_sql "SELECT nodename || ' ' || reportedstate || '/' || goalstate FROM pgautofailover.node ORDER BY nodeid"
}

role_node() {
  local want=$1 name state
  while read -r name state; do
    [[ $state == "$want" ]] && { echo "$name"; return 0; }
  done < <(node_states)
  return 0
}

wait_healthy() {
  local seconds=${1:-60} deadline states
  deadline=$((SECONDS + seconds))
  while :; do
    states=$(node_states 2>/dev/null || true)
    if grep -q ' primary/primary$' <<<"$states" && grep -q ' secondary/secondary$' <<<"$states"; then
      return 0
    fi
    ((SECONDS < deadline)) || { report_unhealthy "$seconds" "$states"; return 1; }
    sleep 0.3
  done
}

# What the nodes said last, for the node that did not get where it should.
report_unhealthy() {
  local seconds=$1 states=$2 name state
  pg_msg "not healthy after ${seconds}s:"
  echo "$states" >&2
  while read -r name state; do
    [[ $state == primary/primary || $state == secondary/secondary || ! -f $dir/$name.log ]] && continue
    pg_msg "last lines of $name's keeper log:"
    tail -n 12 "$dir/$name.log" >&2
  done <<<"$states"
}

create_monitor() {
  autoctl create monitor --pgdata "$dir/monitor" --pgport "$monitor_port" --hostname 127.0.0.1 \
    --auth trust --no-ssl --pgctl "$PG_BINDIR/pg_ctl" >>"$dir/monitor.log" 2>&1 ||
    { tail -n 20 "$dir/monitor.log" >&2; die "pg_autoctl create monitor failed"; }
  autoctl config set --pgdata "$dir/monitor" postgresql.listen_addresses 127.0.0.1 >/dev/null
  run_keeper monitor
  pg_wait_ready "$monitor_port" 60
  local key
  for _ in {1..50}; do monitor_sql "SELECT 1 FROM pgautofailover.formation" >/dev/null 2>&1 && break; sleep 0.2; done
  for key in "${!monitor_settings[@]}"; do
    monitor_sql "ALTER SYSTEM SET pgautofailover.$key = ${monitor_settings[$key]}" >/dev/null
  done
  monitor_sql "SELECT pg_reload_conf()" >/dev/null
}

create_node() {
  local name=$1 port
  port=$(port_of "$name")
  autoctl create postgres --pgdata "$dir/$name" --pgport "$port" --hostname 127.0.0.1 \
    --listen 127.0.0.1 --name "$name" --monitor "$(monitor_url)" --auth trust --no-ssl \
    --dbname bankd --pgctl "$PG_BINDIR/pg_ctl" >>"$dir/$name.log" 2>&1 ||
    { tail -n 20 "$dir/$name.log" >&2; die "pg_autoctl create postgres failed for $name"; }
  autoctl config set --pgdata "$dir/$name" timeout.network_partition_timeout \
    "$network_partition_timeout" >/dev/null
  run_keeper "$name"
}

start() {
  [[ ! -e $dir/formation.env ]] || die "$dir already holds a formation (stop it first)"
  command -v pg_autoctl >/dev/null || die "pg_autoctl is missing: scripts/setup-deps.sh ha"
  pg_make_owned_dir "$dir"
  chmod 0755 "$dir"
  pg_owner_can_reach "$dir" || { rm -rf -- "$dir"; die "the postgres user cannot reach $dir"; }
  pg_make_owned_dir "$dir/xdg"
  trap 'status=$?; ((status == 0)) || { pg_msg "start failed; cleaning up"; stop; }' EXIT
  local port used=" "
  for name in monitor "${nodes[@]}"; do
    until port=$(pg_free_port 40000 10000) && [[ $used != *" $port "* ]]; do :; done
    used+="$port "
    printf '%s_port=%s\n' "$name" "$port" >>"$dir/formation.env"
  done
  load_env
  create_monitor
  create_node node1
  for _ in {1..150}; do [[ $(role_node primary/primary) == node1 || $(role_node single/single) == node1 ]] && break; sleep 0.2; done
  pg_wait_ready "$node1_port" 60
  for _ in {1..50}; do node_sql node1 "CREATE ROLE bankd LOGIN SUPERUSER" >/dev/null 2>&1 && break; sleep 0.2; done
  node_sql node1 "SELECT 1 FROM pg_roles WHERE rolname = 'bankd'" | grep -q 1 || die "could not create the bankd role"
  create_node node2
  wait_healthy 90
  trap - EXIT
  database_url
}

# Stops the keeper (and so PostgreSQL) of NAME: SIGTERM to its session, then
# SIGKILL to whatever is left, backends included.
stop_keeper() {
  local name=$1 pgid
  [[ -s $dir/$name.pgid ]] || return 0
  pgid=$(<"$dir/$name.pgid")
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for _ in {1..100}; do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  kill_postgres "$name" KILL
}

# Signals the postmaster of NAME and every process it started. PostgreSQL
# puts each child in a session of its own, so a process group does not reach
# them. The postmaster is stopped first so that it forks no more.
kill_postgres() {
  local name=$1 signal=$2 pm children
  pm=$(pg_as_owner head -n 1 "$dir/$name/postmaster.pid" 2>/dev/null) || return 0
  [[ $pm =~ ^[0-9]+$ ]] && kill -0 "$pm" 2>/dev/null || return 0
  [[ $(readlink "/proc/$pm/cwd" 2>/dev/null) == "$dir/$name" ]] || return 0
  kill -STOP "$pm" 2>/dev/null || true
  children=$(pgrep -P "$pm" | tr '\n' ' ' || true)
  # shellcheck disable=SC2086 # a list of pids
  kill "-$signal" "$pm" $children 2>/dev/null || true
}

stop() {
  [[ -d $dir ]] || return 0
  local name
  for name in "${nodes[@]}" monitor; do stop_keeper "$name"; done
  rm -rf -- "$dir"
}

kill_primary() {
  local name pgid
  name=$(role_node primary/primary)
  [[ -n $name ]] || name=$(role_node wait_primary/wait_primary)
  [[ -n $name ]] || die "no primary to kill"
  pgid=$(<"$dir/$name.pgid")
  kill -STOP -- "-$pgid" 2>/dev/null || true  # the keeper must not restart postgres meanwhile
  kill_postgres "$name" KILL
  kill -KILL -- "-$pgid" 2>/dev/null || true
  echo "$name"
}

stall_replication() {
  local name pm senders
  name=$(role_node primary/primary)
  [[ -n $name ]] || die "no primary"
  pm=$(pg_as_owner head -n 1 "$dir/$name/postmaster.pid")
  senders=$(pgrep -P "$pm" -f '^postgres: walsender' | tr '\n' ' ' || true)
  [[ -n $senders ]] || die "$name has no WAL sender"
  # shellcheck disable=SC2086 # a list of pids
  kill -STOP $senders
  echo "$name"
}

rejoin() {
  local name
  for name in "${nodes[@]}"; do
    keeper_running "$name" || { rm -f "$dir/$name.pgid"; run_keeper "$name"; }
  done
}

# Through the monitor's own function: `pg_autoctl set node replication-quorum`
# of Debian's 2.0 sends a garbled group id. The monitor then has the primary
# rewrite synchronous_standby_names ('' when no standby is in the quorum).
set_quorum() {
  local name primary setting=
  for name in "${nodes[@]}"; do
    monitor_call "SELECT pgautofailover.set_node_replication_quorum('default', '$name', $1)"
  done
  primary=$(role_node primary/primary)
  for _ in {1..100}; do
    [[ -n $primary ]] || primary=$(role_node primary/primary)
    [[ -n $primary ]] && setting=$(node_sql "$primary" 'SHOW synchronous_standby_names')
    [[ $1 == false && -n $primary && -z $setting ]] && break
    [[ $1 == true && -n $setting ]] && break
    sleep 0.2
  done
  pg_msg "replication-quorum $1: synchronous_standby_names = '$setting' on ${primary:-no primary}"
}

case $command in
  start) start ;;
  stop) stop ;;
  status) load_env; autoctl show state --pgdata "$dir/monitor" ;;
  url) load_env; database_url "${1:-}" ;;
  primary) load_env; role_node primary/primary ;;
  secondary) load_env; role_node secondary/secondary ;;
  kill-primary) load_env; kill_primary ;;
  stall-replication) load_env; stall_replication ;;
  rejoin) load_env; rejoin ;;
  wait-healthy) load_env; wait_healthy "${1:-60}" ;;
  async) load_env; set_quorum false ;;
  sync) load_env; set_quorum true ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
