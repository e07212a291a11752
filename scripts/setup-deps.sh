#!/usr/bin/env bash
# Installs the Debian 12 packages bankd needs; prints nothing when they are
# all there already.
#
#   scripts/setup-deps.sh [GROUP...]   install these groups (default: build postgres)
#   scripts/setup-deps.sh --list       show the groups and their packages
#
# Asks dpkg which packages are missing and only then runs apt-get (update
# once, then install the missing ones), as root or through sudo.
set -euo pipefail

# A group is a line here; add one by adding a line.
declare -A group_packages=(
  [build]="g++ cmake ninja-build pkg-config libboost1.81-dev libboost-program-options1.81-dev
           libpq-dev libssl-dev nlohmann-json3-dev catch2 prometheus-cpp-dev"
  [postgres]="postgresql-15 postgresql-client-15"
  [bench]="wrk hyperfine gnuplot-nox pgbouncer"  # pgbouncer: docs/scaling.md
  [container]="podman buildah debootstrap curl"
  [fuzz]="clang-14 libclang-rt-14-dev"
  [lint]="clang-tidy-14"
  # Only where no node is installed at all (scripts/npm-tools.sh decides).
  [node]="nodejs npm"
  [browser]="chromium"
  # pg_auto_failover (pg_autoctl) for the failover scenario (ctest -L failover)
  [ha]="postgresql-15 postgresql-client-15 postgresql-15-auto-failover"
)
group_order=(build postgres bench container lint fuzz node browser ha)
default_groups=(build postgres)

# Installing postgresql-15 normally creates and starts a "main" cluster on
# port 5432. bankd's scripts run clusters of their own, so we ask
# postgresql-common not to create it (read by the package's postinst).
no_main_cluster_conf=/etc/postgresql-common/createcluster.d/50-bankd-no-main-cluster.conf

msg() { printf 'setup-deps: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

usage() {
  printf 'usage: %s [GROUP...]   (default: %s)\n\ngroups:\n' "$0" "${default_groups[*]}"
  local group
  local -a pkgs
  for group in "${group_order[@]}"; do
    # shellcheck disable=SC2206 # the lists are plain words
    pkgs=(${group_packages[$group]})
    printf '  %-10s %s\n' "$group" "${pkgs[*]}"
  done
}

is_installed() {
  dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

main() {
  local -a groups=("$@")
  case "${1:-}" in
    -h | --help | --list) usage; return 0 ;;
  esac
  ((${#groups[@]} > 0)) || groups=("${default_groups[@]}")

  local -a wanted=() missing=()
  local group pkg
  for group in "${groups[@]}"; do
    [[ -n ${group_packages[$group]+set} ]] || { usage >&2; die "unknown group '$group'"; }
    # shellcheck disable=SC2206 # the lists are plain words
    wanted+=(${group_packages[$group]})
  done
  for pkg in "${wanted[@]}"; do
    [[ " ${missing[*]} " == *" $pkg "* ]] && continue
    is_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]} > 0)) || return 0

  if [[ " ${missing[*]} " == *" postgresql-15 "* && ! -e $no_main_cluster_conf ]]; then
    msg "asking postgresql-common not to create its default cluster on port 5432 ($no_main_cluster_conf)"
    as_root mkdir -p "$(dirname "$no_main_cluster_conf")"
    printf '# Written by bankd scripts/setup-deps.sh: bankd runs its own clusters.\ncreate_main_cluster = false\n' |
      as_root tee "$no_main_cluster_conf" >/dev/null
  fi

  msg "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

main "$@"
