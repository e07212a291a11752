#!/bin/sh
# Entry point of deploy/pg_auto_failover.Dockerfile:
#   pg-auto-failover-node monitor
#   pg-auto-failover-node node NAME MONITOR_HOST
# Creates the node on first start (PGDATA empty), then runs pg_autoctl in
# the foreground as PID 1's only child. The settings are those of
# scripts/ha/formation.sh, where they are explained and measured.
# --auth trust on a private network only: use --auth scram-sha-256 with
# passwords (and --ssl-self-signed or certificates) for anything real.
set -eu
role=${1:?monitor or node}
cfg_dir=${XDG_CONFIG_HOME:?}

if [ ! -f "$PGDATA/PG_VERSION" ]; then
  rm -rf "$cfg_dir" "${XDG_DATA_HOME:?}"   # a half-made node from an earlier try
  case $role in
    monitor)
      pg_autoctl create monitor --pgdata "$PGDATA" --pgport 5432 --hostname "$(hostname)" \
        --auth trust --no-ssl
      # The monitor's health checks and timeouts: promotion about 8 s after
      # a primary dies instead of about 50 s.
      cat >>"$PGDATA/postgresql.conf" <<'CONF'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 2000
pgautofailover.primary_demote_timeout = 5000
CONF
      ;;
    node)
      name=${2:?node name}
      monitor=${3:?monitor host}
      # --pg-hba-lan: bankd's replicas connect from the compose network.
      pg_autoctl create postgres --pgdata "$PGDATA" --pgport 5432 --hostname "$name" \
        --name "$name" --dbname bankd --auth trust --no-ssl --pg-hba-lan \
        --monitor "postgres://autoctl_node@$monitor:5432/pg_auto_failover?sslmode=disable"
      # Below the monitor's primary_demote_timeout: a partitioned primary
      # stops taking writes before its standby is promoted.
      pg_autoctl config set --pgdata "$PGDATA" timeout.network_partition_timeout 3
      ;;
    *)
      echo "usage: $0 monitor | node NAME MONITOR_HOST" >&2
      exit 2
      ;;
  esac
fi
exec pg_autoctl run --pgdata "$PGDATA"
