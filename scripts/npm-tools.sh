#!/usr/bin/env bash
# Installs the npm tools in tools/npm/node_modules (git-ignored) with
# `npm ci`, exactly as tools/npm/package-lock.json pins them: the Redocly CLI,
# which builds openapi.json and the API reference page, and for the contract
# tests Ajv, openapi-typescript, openapi-fetch and TypeScript. Prints nothing
# when they are installed already.
#
#   scripts/npm-tools.sh           build and test tools
#   scripts/npm-tools.sh --build   only what the build needs (the container image)
#
# Uses the node and npm on PATH (Node 18.17 or later); installs Debian's
# (setup-deps.sh group node) only when there is no node at all.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
dir=$root/tools/npm
msg() { printf 'npm-tools: %s\n' "$*" >&2; }

mode=all
case "${1:-}" in
  "") ;;
  --build) mode=build ;;
  *) msg "usage: $0 [--build]"; exit 2 ;;
esac

command -v node >/dev/null || "$root/scripts/setup-deps.sh" node
command -v npm >/dev/null || { msg "node is installed without npm; install npm"; exit 1; }
major_minor=$(node -p 'process.versions.node.split(".").slice(0, 2).join(" ")')
read -r major minor <<<"$major_minor"
if ((major < 18 || (major == 18 && minor < 17))); then
  msg "Node $(node --version) is too old: the Redocly CLI needs 18.17 or later"
  exit 1
fi

# What was installed, from which lock file: `npm ci` starts from scratch
# every time, so it runs only when this changes.
stamp=$dir/node_modules/.bankd-installed
want="$mode $(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
have=$(cat "$stamp" 2>/dev/null || true)
[[ $have == "$want" || ($mode == build && $have == "all ${want#* }") ]] && exit 0

msg "installing the npm tools of tools/npm ($mode) with npm ci"
args=(ci --no-audit --no-fund --ignore-scripts --loglevel=error)
[[ $mode == build ]] && args+=(--omit=dev)
(cd "$dir" && npm "${args[@]}")
printf '%s\n' "$want" >"$stamp"
