#!/usr/bin/env bash
# Generates TypeScript types from the OpenAPI document with openapi-typescript,
# compiles the typed client in client/ with tsc (strict), and runs it against
# a bankd on a scratch database: user, account, deposit, transfer, replay.
#
#   client_test.sh BANKD OPENAPI.yaml NPM_DIR WORK_DIR
#
# Exit 0 passed, 77 skipped (no BANKD_TEST_DATABASE_URL), else failed.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$here/../../scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=client_test
# shellcheck source=tests/contract/serve_bankd.sh
source "$here/serve_bankd.sh"
bankd=$1 spec=$2 npm=$3 work=$4
[[ -n ${BANKD_TEST_DATABASE_URL:-} ]] || { echo "skipped: BANKD_TEST_DATABASE_URL is not set"; exit 77; }
admin_url=$BANKD_TEST_DATABASE_URL
database=bankd_ts_client_$$
operator_key=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')  # 48 characters: bankd wants 32+

cleanup() {
  local status=$?
  ((status == 77)) && status=1
  stop_bankd
  psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT

now_ms() { printf '%s\n' "$((${EPOCHREALTIME/./} / 1000))"; }
started=$(now_ms)
elapsed() { local ms=$(($(now_ms) - started)); printf '%d.%01d s' "$((ms / 1000))" "$((ms % 1000 / 100))"; }
rm -rf "$work" && mkdir -p "$work"
cp "$here/client/transfer.ts" "$here/client/tsconfig.json" "$work/"
printf '{ "type": "module", "private": true }\n' >"$work/package.json"
ln -s "$npm/node_modules" "$work/node_modules"
"$npm/node_modules/.bin/openapi-typescript" "$spec" -o "$work/bankd-api.ts" --silent
"$npm/node_modules/.bin/tsc" -p "$work/tsconfig.json"
echo "types generated and the client compiled in $(elapsed)"

psql "$admin_url" -qAtc "CREATE DATABASE $database" >/dev/null
db_url=$(sed -E "s#/[^/?]*(\?|$)#/$database\1#" <<<"${admin_url%/}")
"$bankd" migrate --database-url "$db_url" >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
serve_bankd "$bankd" "$db_url" "$work/bankd.log"
node "$work/out/transfer.js" "http://127.0.0.1:$bankd_port" "$operator_key"
echo "passed in $(elapsed)"
