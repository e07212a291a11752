#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 14, ASan + UBSan) and
# runs each for a while on a copy of its checked-in seed corpus, then prints
# what each run did. Long runs, crashes and minimising: docs/fuzzing.md.
#
#   scripts/fuzz.sh [TARGET...]     default: every target in fuzz/corpus/
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_OUT       where the grown corpora, logs and crash inputs go
#                  (default build/fuzz/runs/<UTC timestamp>)
#   FUZZ_ARGS      more libFuzzer flags, e.g. "-fork=2 -ignore_crashes=1"
#
# Exit status: 0 when no target found anything, 1 when one did (its input is
# listed), 2 on a usage or build error.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-$root/build/fuzz/runs/$(date -u +%Y%m%dT%H%M%SZ)}
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

msg() { printf 'fuzz.sh: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 2; }

[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || die "FUZZ_SECONDS must be a positive integer"

# Per-target libFuzzer flags: request_fuzzer may grow inputs past the 8 KiB
# header limit, so that limit's paths are reachable.
target_args() {
  case $1 in
    request_fuzzer) printf '%s\n' -max_len=12000 ;;
    *) ;;
  esac
}

targets=("$@")
if ((${#targets[@]} == 0)); then
  for dir in "$root"/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi
for t in "${targets[@]}"; do
  [[ -d $root/fuzz/corpus/$t ]] || die "unknown target '$t' (no fuzz/corpus/$t)"
done

"$root/scripts/setup-deps.sh" build fuzz
cd "$root"
cmake --preset fuzz >/dev/null || die "configuring the fuzz preset failed"
cmake --build --preset fuzz || die "building the fuzzers failed"

mkdir -p "$out"
msg "runs go to $out"
declare -a summary=()
failed=0
for t in "${targets[@]}"; do
  dir=$out/$t
  mkdir -p "$dir/corpus"
  cp -R "$root/fuzz/corpus/$t/." "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  mapfile -t args < <(target_args "$t")
  dict=()
  [[ -f $root/fuzz/dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  msg "$t: ${seconds}s from $seeds seed inputs"
  set +e
  "$root/build/fuzz/bin/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/" "${args[@]}" "${dict[@]}" "${extra_args[@]}" "$dir/corpus" \
    >"$dir/log" 2>&1
  status=$?
  set -e
  # libFuzzer's last status line: "#<runs> DONE cov: <edges> ft: <features> corp: <n>/<size> ..."
  done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$dir/log" | tail -n 1 || true)
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
  rate=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]*([0-9]+)/\1/p' "$dir/log" | tail -n 1)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  mapfile -t found < <(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  verdict=clean
  if ((status != 0 || ${#found[@]} > 0)); then
    verdict="FOUND SOMETHING (exit $status)"
    failed=1
    grep -E 'invariant broken|ERROR: |SUMMARY: ' "$dir/log" | head -n 5 >&2 || true
    ((${#found[@]} == 0)) || printf '  input: %s\n' "${found[@]}" >&2
  fi
  summary+=("$(printf '%-16s %10s runs %7s exec/s  cov %6s  ft %6s  corpus %5s -> %-5s %s' \
    "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$seeds" "$corpus" "$verdict")")
done

printf '\n'
printf '%s\n' "${summary[@]}"
printf '\nlogs, grown corpora and any crash inputs: %s\n' "$out"
exit "$failed"
