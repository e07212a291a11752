#!/usr/bin/env bash
# Builds bankd with warnings as errors and runs the test suite against a
# throw-away PostgreSQL 15 cluster, which is removed however the run ends.
#
#   scripts/test.sh [ctest args...]     e.g. -R migrate, -L unit
#
# Environment:
#   BANKD_TEST_PRESET     CMake preset to build and test (default ci; asan, tsan, ...)
#   CTEST_PARALLEL_LEVEL  tests run at once (default 2; each test makes its own databases)
#
# Exports to the tests (see tests/support/scratch_database.hpp):
#   BANKD_TEST_DATABASE_URL  superuser URL of the test cluster
#   BANKD_TEST_PGCTL         executable taking start | stop | restart for it
#
# Two roles, as in production: each test's database is migrated by the
# cluster's superuser (the owner), and the bankd it starts logs in as
# <database>_serve, a member of <database>_app (migration 007) and nothing
# more; both roles are dropped with the database.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"
PG_LOG_TAG=test.sh

preset=${BANKD_TEST_PRESET:-ci}
tmp=
ctest_pid=

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e  # finish cleaning up whatever fails (even writing to a closed pipe)
  trap '' INT TERM HUP PIPE
  # Also after ctest ended: nothing a test left behind outlives the run.
  if [[ -n $ctest_pid ]] && kill -0 -- "-$ctest_pid" 2>/dev/null; then
    pg_msg "stopping what is left of the tests"
    kill -TERM -- "-$ctest_pid" 2>/dev/null || true
    for _ in {1..50}; do
      kill -0 -- "-$ctest_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$ctest_pid" 2>/dev/null || true
  fi
  if [[ -n $tmp ]]; then
    pg_stop "$tmp/data" || pg_msg "could not stop the test cluster in $tmp/data"
    rm -rf -- "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ha: pg_auto_failover for the failover scenario (ctest -L failover)
"$root/scripts/setup-deps.sh" build postgres browser ha
# Before configuring: the build makes the API reference with them, and the
# contract tests are registered only when they are there.
"$root/scripts/npm-tools.sh"

cd "$root"
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bankd-test.XXXXXX")
chmod 0755 "$tmp"
if ! pg_owner_can_reach "$tmp"; then
  rm -rf -- "$tmp"
  tmp=$(mktemp -d /var/tmp/bankd-test.XXXXXX)
  chmod 0755 "$tmp"
fi
pg_init "$tmp/data" test

# A free port can be taken between looking and binding: try a few.
port=
for _ in 1 2 3; do
  candidate=$(pg_free_port 20000 10000)
  sockdir=$(pg_socket_dir "$tmp/data" "$candidate")
  if pg_start "$tmp/data" "$candidate" "$sockdir" "$tmp/postgresql.log"; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || { pg_msg "could not start the test cluster"; exit 1; }
pg_write_ctl_script "$tmp/pgctl" "$tmp/data" "$port" "$sockdir" "$tmp/postgresql.log"

export BANKD_TEST_DATABASE_URL="postgresql://bankd@127.0.0.1:$port/postgres"
export BANKD_TEST_PGCTL="$tmp/pgctl"
pg_msg "test cluster on 127.0.0.1:$port in $tmp (removed on exit)"

# ctest gets a session of its own so that an interrupt reaches the whole
# process group of tests at once (from cleanup), and reaches it only once.
setsid ctest --preset "$preset" --output-on-failure --no-tests=error \
  -j "${CTEST_PARALLEL_LEVEL:-2}" "$@" &
ctest_pid=$!
status=0
wait "$ctest_pid" || status=$?
exit "$status"
