#!/usr/bin/env bash
# Builds the bankd image from the Dockerfile exactly as written and proves it
# works: started against a PostgreSQL, healthy, moving money over HTTP, not
# root, and stopping cleanly on SIGTERM.
#
#   scripts/container-test.sh           (ctest runs it with the label "container")
#
# There is no Docker engine here; podman builds the image and buildah runs it,
# both with chroot isolation and the host's network. The debian:bookworm-slim
# base is a debootstrapped Debian 12 imported once; its tarball is cached in
# /var/cache/bankd, so later runs skip debootstrap.
#
# Environment:
#   BANKD_TEST_DATABASE_URL  superuser URL of a PostgreSQL reachable on the host
#                            network (required; scripts/test.sh exports it)
#   CONTAINER_TEST_PORT      HTTP port for the container (default: a free one)
#   CONTAINER_IMAGE          image tag to build (default bankd:test)
# Exit status: 0 passed, 1 failed, 77 skipped (no database given).
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
image=${CONTAINER_IMAGE:-bankd:test}
base_image=docker.io/library/debian:bookworm-slim
cache=/var/cache/bankd
base_tarball=$cache/bookworm-minbase.tar.gz
operator_key=container-test-$RANDOM$RANDOM
database=bankd_container_$$
ctr=
run_pid=
admin_url=

msg() { printf 'container-test: %s\n' "$*" >&2; }
fail() { msg "FAILED: $*"; exit 1; }
phase() { msg "$1 (${SECONDS}s since start)"; }

[[ -n ${BANKD_TEST_DATABASE_URL:-} ]] || { msg "BANKD_TEST_DATABASE_URL is not set: skipped"; exit 77; }
admin_url=$BANKD_TEST_DATABASE_URL

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  set +e
  trap '' INT TERM HUP PIPE
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then
    kill -KILL -- "-$run_pid" 2>/dev/null  # its own process group: see below
    wait "$run_pid" 2>/dev/null
  fi
  [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The base image podman builds FROM, without pulling from a registry.
ensure_base_image() {
  podman image exists "$base_image" && return
  if [[ ! -s $base_tarball ]]; then
    phase "debootstrapping Debian 12 (minbase) into $cache"
    local rootfs
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
      { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$rootfs"; fail "debootstrap"; }
    # What debian:bookworm-slim leaves out: package caches, lists, docs.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/slim"
    tar -C "$rootfs" -c . | gzip -1 >"$base_tarball.tmp"
    mv "$base_tarball.tmp" "$base_tarball"
    rm -rf "$rootfs"
  fi
  phase "importing $base_tarball as $base_image"
  zcat "$base_tarball" | podman import - "$base_image" >/dev/null
}

free_port() {
  local port
  for port in $(shuf -i 20000-40000 -n 50); do
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { printf '%s\n' "$port"; return; }
  done
  fail "no free port"
}

# The PID of bankd inside the container: the bankd process descended from
# `buildah run` (chroot isolation shares the host's PID namespace).
bankd_pid() {
  local pid parent
  for pid in $(pgrep -x bankd); do
    parent=$pid
    while ((parent > 1)); do
      ((parent == run_pid)) && { printf '%s\n' "$pid"; return; }
      parent=$(awk '{ print $4 }' "/proc/$parent/stat" 2>/dev/null) || break
    done
  done
}

# api METHOD PATH KEY [BODY] [IDEMPOTENCY-KEY]: prints "STATUS BODY"
api() {
  local args=(-s -o /dev/stdout -w ' %{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [[ -n ${4:-} ]] && args+=(-H 'Content-Type: application/json' -d "$4")
  [[ -n ${5:-} ]] && args+=(-H "Idempotency-Key: $5")
  curl "${args[@]}" "http://127.0.0.1:$port$2"
}
# expect STATUS "RESPONSE": fails unless the response has that status
expect() { [[ ${2##* } == "$1" ]] || fail "expected $1, got: $2"; }
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2" | head -1; }

"$root/scripts/setup-deps.sh" container
command -v psql >/dev/null || "$root/scripts/setup-deps.sh" postgres

ensure_base_image
phase "building $image from the Dockerfile"
podman build --format docker --isolation=chroot --network=host --pull=never -t "$image" "$root" >"${TMPDIR:-/tmp}/bankd-image-build.log" 2>&1 ||
  { tail -40 "${TMPDIR:-/tmp}/bankd-image-build.log" >&2; fail "podman build"; }
size=$(podman image inspect --format '{{.Size}}' "$image")
phase "image built: $((size / 1024 / 1024)) MiB"

psql "$admin_url" -qAtc "CREATE DATABASE $database" >/dev/null
db_url=$(sed -E "s#/[^/?]*(\?|$)#/$database\1#" <<<"${admin_url%/}")
[[ $db_url == *"/$database"* ]] || fail "cannot make a database URL from $admin_url"
port=${CONTAINER_TEST_PORT:-$(free_port)}

ctr=$(buildah from --pull-never "$image")
run_env=(-e "DATABASE_URL=$db_url" -e "PORT=$port" -e "BANKD_OPERATOR_KEY=$operator_key"
  -e BANKD_MIGRATE=1 -e THREADS=2 -e POOL_SIZE=4)
phase "starting bankd serve on port $port (migrating first)"
log=${TMPDIR:-/tmp}/bankd-container-$$.log
# In a process group of its own, so that cleanup can end all of it at once.
setsid buildah run --isolation chroot --network host "${run_env[@]}" "$ctr" bankd serve >"$log" 2>&1 &
run_pid=$!

for ((i = 0; i < 100; i++)); do
  buildah run --isolation chroot --network host -e "PORT=$port" "$ctr" bankd healthcheck >/dev/null 2>&1 && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$log" >&2; fail "bankd exited during start-up"; }
  sleep 0.2
done
((i < 100)) || { cat "$log" >&2; fail "healthcheck not passing after 20 s"; }
phase "healthy"

pid=$(bankd_pid)
[[ -n $pid ]] || fail "cannot find the bankd process of the container"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
((uid != 0)) || fail "bankd runs as root"
msg "bankd runs as uid $uid"

r=$(api POST /users "$operator_key" '{"name":"Ada","email":"ada@example.com"}'); expect 201 "$r"
ada_key=$(field api_key "$r"); ada=$(field id "$r")
r=$(api POST /users "$operator_key" '{"name":"Bob","email":"bob@example.com"}'); expect 201 "$r"
bob=$(field id "$r")
r=$(api POST /accounts "$operator_key" "{\"currency\":\"EUR\",\"user_id\":$ada}"); expect 201 "$r"
ada_account=$(field id "$r")
r=$(api POST /accounts "$operator_key" "{\"currency\":\"EUR\",\"user_id\":$bob}"); expect 201 "$r"
bob_account=$(field id "$r")
r=$(api POST "/accounts/$ada_account/deposits" "$operator_key" '{"amount":10000}' dep-1); expect 201 "$r"
r=$(api POST /transfers "$ada_key" \
  "{\"from_account_id\":$ada_account,\"to_account_id\":$bob_account,\"amount\":2500}" t-1)
expect 201 "$r"
r=$(api GET "/accounts/$bob_account" "$operator_key"); expect 200 "$r"
[[ $(field balance "$r") == 2500 ]] || fail "Bob's balance: $r"
r=$(api GET "/accounts/$ada_account" "$operator_key"); expect 200 "$r"
[[ $(field balance "$r") == 7500 ]] || fail "Ada's balance: $r"
phase "deposit and transfer done, balances 7500 and 2500"

kill -TERM "$pid"
status=0
wait "$run_pid" || status=$?
run_pid=
((status == 0)) || { cat "$log" >&2; fail "bankd exited with $status after SIGTERM"; }
grep -q 'bankd.stopped' "$log" || { cat "$log" >&2; fail "no bankd.stopped line after SIGTERM"; }
rm -f "$log"
phase "stopped cleanly on SIGTERM; passed"
