#!/usr/bin/env bash
# Opens bankd's GET /docs in headless Chromium, with no network but loopback,
# and checks what a reader sees: the transfer operations and every error code
# of the document, rendered, with no script error and nothing blocked by the
# page's Content-Security-Policy. Keeps the DOM and a screenshot in WORK_DIR.
#
#   docs_page_test.sh BANKD OPENAPI.json WORK_DIR
#
# bankd needs no database to serve the page: it gets one that is not there.
# Exit 0 passed, 77 skipped (no chromium: scripts/setup-deps.sh browser).
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/pg.sh
source "$here/../../scripts/lib/pg.sh"
# shellcheck disable=SC2034 # read by pg.sh
PG_LOG_TAG=docs_page_test
# shellcheck source=tests/contract/serve_bankd.sh
source "$here/serve_bankd.sh"
bankd=$1 spec=$2 work=$3
chromium=$(command -v chromium || true)
[[ -n $chromium ]] || { echo "skipped: no chromium (scripts/setup-deps.sh browser)"; exit 77; }
operator_key=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')  # 48 characters: bankd wants 32+

fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
cleanup() {
  local status=$?
  ((status == 77)) && status=1
  stop_bankd
  exit "$status"
}
trap cleanup EXIT

rm -rf "$work" && mkdir -p "$work"
serve_bankd "$bankd" "postgresql://bankd@127.0.0.1:1/none?connect_timeout=1" "$work/bankd.log"
url=http://127.0.0.1:$bankd_port/docs

# Only loopback resolves and no proxy is used, so anything the page tried to
# fetch from elsewhere would fail and be logged.
browse() {
  "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile-$1" \
    --no-proxy-server --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
    --enable-logging=stderr --v=0 --virtual-time-budget=15000 --window-size=1400,1800 "${@:3}" "$2"
}
browse dom "$url" --dump-dom >"$work/dom.html" 2>"$work/chromium-dom.log" ||
  { cat "$work/chromium-dom.log"; fail "chromium --dump-dom"; }
# What a reader sees first.
browse shot "$url" --screenshot="$work/docs.png" >/dev/null \
  2>"$work/chromium-shot.log" || { cat "$work/chromium-shot.log"; fail "chromium --screenshot"; }
# A blank 1400x1800 page compresses to about 11 KB, the rendered one to
# over 200 KB.
size=$(stat -c %s "$work/docs.png" 2>/dev/null || echo 0)
((size > 50000)) || fail "the screenshot ($size bytes) looks blank"

# The page's own complaints: script errors, CSP refusals, failed loads.
if grep -E 'CONSOLE|Refused to|Uncaught|ERR_NAME_NOT_RESOLVED|net::ERR' "$work/chromium-dom.log" "$work/chromium-shot.log" |
  grep -v -E 'DevTools listening|dbus' >"$work/complaints.log"; then
  cat "$work/complaints.log"
  fail "the page logged errors in the browser"
fi

# What must be on it, read from the document: the transfer operations' paths
# and summaries, and every error code.
node - "$spec" "$work/dom.html" <<'JS'
const { readFileSync } = require('node:fs');
const [spec, domFile] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(spec, 'utf8'));
const dom = readFileSync(domFile, 'utf8');
const text = dom.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ')
  .replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const wanted = [];
for (const [path, item] of Object.entries(doc.paths))
  for (const op of Object.values(item))
    if (op.tags?.includes('Transfers')) wanted.push(path, op.summary);
wanted.push(...doc.components.schemas.ErrorCode.enum);
const missing = wanted.filter((w) => !text.includes(w));
if (missing.length) {
  console.error(`FAILED: the rendered page lacks: ${missing.join(', ')}`);
  process.exit(1);
}
if (!/id="redoc"/.test(dom) || !/Redoc\.init\(/.test(dom)) {
  console.error('FAILED: not a Redoc page');
  process.exit(1);
}
console.log(`the page shows all ${wanted.length} expected texts (transfer paths and summaries, error codes)`);
JS
echo "screenshot: $work/docs.png"
