#!/usr/bin/env bash
# Builds the bankd image from the Dockerfile exactly as written and proves it
# works the way a deployment uses it: its one-shot `migrate`, then its own
# ENTRYPOINT and CMD against a PostgreSQL, healthy by its own HEALTHCHECK,
# moving money over HTTP, not root, and stopping cleanly on SIGTERM.
#
#   scripts/container-test.sh           (ctest runs it with the label "container")
#
# There is no Docker engine here; podman builds the image and buildah runs it,
# both with chroot isolation and the host's network. The debian:bookworm-slim
# base is a debootstrapped Debian 12 made like the official image and imported
# once; its tarball is cached, so later runs skip debootstrap.
#
# Environment:
#   BANKD_TEST_DATABASE_URL  superuser URL of a PostgreSQL reachable on the host
#                            network (required; scripts/test.sh exports it)
#   BANKD_CONTAINER_CACHE    where the base tarball is kept (default /var/cache/bankd)
#   CONTAINER_TEST_PORT      HTTP port for the container (default: a free one)
#   CONTAINER_IMAGE          image tag to build (default bankd:test)
#   CONTAINER_MAX_MIB        largest runtime image accepted (default 150)
# Podman's and buildah's own variables apply too (CONTAINERS_STORAGE_CONF for
# a separate image store, for instance).
# Exit status: 0 passed, 77 skipped (no database given), anything else failed.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$root/scripts/lib/pg.sh"  # for pg_free_port
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=container-test
image=${CONTAINER_IMAGE:-bankd:test}
max_mib=${CONTAINER_MAX_MIB:-150}
base_image=docker.io/library/debian:bookworm-slim
# Bump when the way the base is made changes: an older import is replaced.
base_recipe=2
base_label=org.bankd.base-recipe
cache=${BANKD_CONTAINER_CACHE:-/var/cache/bankd}
base_tarball=$cache/bookworm-slim-r$base_recipe.tar.gz
operator_key=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')  # 48 characters: bankd wants 32+
database=bankd_container_$$
work=
ctr=
run_pid=
admin_url=

msg() { printf 'container-test: %s\n' "$*" >&2; }
fail() { msg "FAILED: $*"; exit 1; }

now_ms() { printf '%s\n' "$((${EPOCHREALTIME/./} / 1000))"; }
started_ms=$(now_ms)
lap_ms=$started_ms
timings=()
# lap NAME: reports how long the step that just ended took.
lap() {
  local t
  t=$(now_ms)
  timings+=("$1 $(seconds $((t - lap_ms)))")
  msg "$1: $(seconds $((t - lap_ms))) (total $(seconds $((t - started_ms))))"
  lap_ms=$t
}
seconds() { printf '%d.%01ds\n' "$(($1 / 1000))" "$(($1 % 1000 / 100))"; }

[[ -n ${BANKD_TEST_DATABASE_URL:-} ]] || { msg "BANKD_TEST_DATABASE_URL is not set: skipped"; exit 77; }
admin_url=$BANKD_TEST_DATABASE_URL

# shellcheck disable=SC2317 # run from the EXIT trap
cleanup() {
  local status=$?
  ((status == 77)) && status=1  # a failing command's own 77 is no skip
  set +e
  trap '' INT TERM HUP PIPE
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then
    # buildah kills bankd on SIGTERM and removes its run directory in /var/tmp;
    # what is left after 5 s goes with its process group (see below).
    kill -TERM "$run_pid" 2>/dev/null
    for _ in {1..50}; do
      kill -0 "$run_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
  fi
  [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1
  psql "$admin_url" -qAtc "DROP ROLE IF EXISTS ${database}_serve" >/dev/null 2>&1
  psql "$admin_url" -qAtc "DROP ROLE IF EXISTS ${database}_app" >/dev/null 2>&1
  [[ -n $work ]] && rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Writes the parts of the official debian:bookworm-slim that debootstrap does
# not make into the root file system $1: no documentation, apt that keeps no
# package files or caches in the image, and the -updates and -security suites.
slim_down() {
  local rootfs=$1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/locale/*
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"'
  printf '%s\n' "DPkg::Post-Invoke { $clean; };" "APT::Update::Post-Invoke { $clean; };" \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    >"$rootfs/etc/apt/apt.conf.d/docker-clean"
  printf '%s\n' 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# The base image podman builds FROM, without pulling from a registry. An image
# of that name that this script did not import (the real one) is used as it is.
ensure_base_image() {
  if podman image exists "$base_image"; then
    local recipe cmd
    recipe=$(podman image inspect --format "{{index .Config.Labels \"$base_label\"}}" "$base_image")
    cmd=$(podman image inspect --format '{{range .Config.Cmd}}{{.}} {{end}}' "$base_image")
    [[ $recipe == "<no value>" ]] && recipe=
    # The official image has CMD ["bash"]; the first version of this script
    # imported one with neither that nor a recipe label.
    [[ $recipe == "$base_recipe" || (-z $recipe && -n $cmd) ]] && return
    msg "replacing $base_image imported by an older version of this script"
  fi
  if [[ ! -s $base_tarball ]]; then
    msg "debootstrapping Debian 12 (minbase) into $cache"
    local rootfs
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
      { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$rootfs"; fail "debootstrap"; }
    slim_down "$rootfs"
    tar -C "$rootfs" -c . | gzip -1 >"$base_tarball.tmp"
    mv "$base_tarball.tmp" "$base_tarball"
    rm -rf "$rootfs"
    find "$cache" -maxdepth 1 -name 'bookworm-*.tar.gz' ! -name "${base_tarball##*/}" -delete
  fi
  msg "importing $base_tarball as $base_image"
  zcat "$base_tarball" |
    podman import --quiet --change "LABEL $base_label=$base_recipe" --change 'CMD ["bash"]' - "$base_image" >/dev/null
}

# config_list TEMPLATE-FIELD: the image's list-valued config field, one per line
config_list() {
  podman image inspect --format "{{range $1}}{{println .}}{{end}}" "$image" | sed '/^$/d'
}

# The PID of bankd inside the container: the bankd process descended from
# `buildah run` (chroot isolation shares the host's PID namespace).
bankd_pid() {
  local dir pid parent
  for dir in /proc/[0-9]*; do
    [[ $(cat "$dir/comm" 2>/dev/null) == bankd ]] || continue
    pid=${dir#/proc/}
    parent=$pid
    while ((parent > 1)); do
      ((parent == run_pid)) && { printf '%s\n' "$pid"; return; }
      parent=$(awk '/^PPid:/ { print $2 }' "/proc/$parent/status" 2>/dev/null) || break
      [[ -n $parent ]] || break
    done
  done
}

# in_container ARGS...: runs ARGS in the container the way its runtime would
in_container() {
  buildah run --isolation chroot --network host "${run_env[@]}" "$ctr" "$@"
}

# api METHOD PATH KEY [BODY] [IDEMPOTENCY-KEY]: prints "BODY STATUS"
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
work=$(mktemp -d "${TMPDIR:-/tmp}/bankd-container-test.XXXXXX")
lap "dependencies"

ensure_base_image
lap "base image"

podman build --format docker --isolation=chroot --network=host --pull=never -t "$image" "$root" \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "podman build"; }
size=$(podman image inspect --format '{{.Size}}' "$image")
lap "image build"
msg "image $image: $((size / 1024 / 1024)) MiB"
((size <= max_mib * 1024 * 1024)) || fail "the image is larger than $max_mib MiB"

# What the Dockerfile promises, read back from the image.
mapfile -t entrypoint < <(config_list .Config.Entrypoint)
mapfile -t cmd < <(config_list .Config.Cmd)
mapfile -t healthcheck < <(config_list .Config.Healthcheck.Test)
user=$(podman image inspect --format '{{.Config.User}}' "$image")
ports=$(podman image inspect --format '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$image")
msg "entrypoint [${entrypoint[*]}], cmd [${cmd[*]}], user $user, healthcheck [${healthcheck[*]}], exposes $ports"
[[ ${entrypoint[*]} == bankd ]] || fail "the entrypoint is not bankd itself (exec form)"
[[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || fail "the image runs as root"
[[ " $ports" == *" 8080/tcp "* ]] || fail "the image does not expose 8080"
[[ ${healthcheck[0]:-} == CMD && ${#healthcheck[@]} -gt 1 ]] || fail "no exec-form HEALTHCHECK"
healthcheck=("${healthcheck[@]:1}")

psql "$admin_url" -qAtc "CREATE DATABASE $database" >/dev/null
db_url=$(sed -E "s#/[^/?]*(\?|$)#/$database\1#" <<<"${admin_url%/}")
[[ $db_url == *"/$database"* ]] || fail "cannot make a database URL from $admin_url"
port=${CONTAINER_TEST_PORT:-$(pg_free_port 20000 20000)}
# Configuration through the environment only, as in compose.yaml. Two
# roles, as there: migrate as the owner, serve as a member of <db>_app.
serve_url=$(sed -E "s#^(postgres(ql)?://)[^@/]*@#\1${database}_serve@#" <<<"$db_url")
[[ $serve_url == *"${database}_serve@"* ]] || fail "cannot make the serve role's URL from $db_url"
run_env=(-e "DATABASE_URL=$db_url" -e "PORT=$port" -e "BANKD_OPERATOR_KEY=$operator_key"
  -e THREADS=2 -e POOL_SIZE=4)
ctr=$(buildah from --pull-never --name "bankd-container-test-$$" "$image")

# The compose file's one-shot step, then the image's own command.
in_container "${entrypoint[@]}" migrate >"$work/migrate.log" 2>&1 ||
  { cat "$work/migrate.log" >&2; fail "migrate"; }
grep -q 'migrate.done' "$work/migrate.log" || { cat "$work/migrate.log" >&2; fail "no migrate.done line"; }
psql "$admin_url" -qAtc "CREATE ROLE ${database}_serve LOGIN IN ROLE ${database}_app" >/dev/null
run_env=(-e "DATABASE_URL=$serve_url" -e "PORT=$port" -e "BANKD_OPERATOR_KEY=$operator_key"
  -e THREADS=2 -e POOL_SIZE=4)
lap "migrate (as the owner; bankd serves as ${database}_serve)"

msg "starting [${entrypoint[*]} ${cmd[*]}] on port $port"
# In a process group of its own, so that cleanup can end all of it at once.
setsid buildah run --isolation chroot --network host "${run_env[@]}" "$ctr" \
  "${entrypoint[@]}" "${cmd[@]}" >"$work/bankd.log" 2>&1 &
run_pid=$!

deadline=$((SECONDS + 60))
until in_container "${healthcheck[@]}" >/dev/null 2>&1; do
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/bankd.log" >&2; fail "bankd exited during start-up"; }
  ((SECONDS < deadline)) || { cat "$work/bankd.log" >&2; fail "healthcheck not passing after 60 s"; }
  sleep 0.2
done
lap "start until healthy"

pid=$(bankd_pid)
[[ -n $pid ]] || fail "cannot find the bankd process of the container"
read -r _ uid _ < <(grep '^Uid:' "/proc/$pid/status")
read -r _ gid _ < <(grep '^Gid:' "/proc/$pid/status")
((uid != 0 && gid != 0)) || fail "bankd runs as uid $uid gid $gid"
msg "bankd (pid $pid) runs as uid $uid gid $gid"

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
lap "deposit and transfer over HTTP (balances 7500 and 2500)"

# The API's document and reference page, installed in the image.
for path in /openapi.yaml /openapi.json /docs; do
  code=$(curl -s -o "$work/api-file" -w '%{http_code}' "http://127.0.0.1:$port$path")
  [[ $code == 200 && -s $work/api-file ]] || fail "GET $path: $code"
done
grep -q 'createTransfer' "$work/api-file" || fail "GET /docs is not the API reference"
lap "GET /openapi.yaml, /openapi.json and /docs"

# What `docker stop` does to the exec-form entrypoint, PID 1 there.
kill -TERM "$pid"
deadline=$((SECONDS + 30))
while kill -0 "$run_pid" 2>/dev/null; do
  ((SECONDS < deadline)) || { cat "$work/bankd.log" >&2; fail "bankd still running 30 s after SIGTERM"; }
  sleep 0.1
done
status=0
wait "$run_pid" || status=$?
run_pid=
((status == 0)) || { cat "$work/bankd.log" >&2; fail "bankd exited with $status after SIGTERM"; }
grep -q 'bankd.stopped' "$work/bankd.log" || { cat "$work/bankd.log" >&2; fail "no bankd.stopped line after SIGTERM"; }
lap "SIGTERM until exit 0"

summary=$(printf '%s, ' "${timings[@]}")
msg "passed; ${summary%, }; total $(seconds $(($(now_ms) - started_ms)))"
