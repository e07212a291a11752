#!/usr/bin/env bash
# Runs clang-tidy (configuration: .clang-tidy) over bankd's own sources and
# fails on any finding.
#
#   scripts/lint.sh [FILE...]     default: every .cpp under service/
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
"$root/scripts/setup-deps.sh" build lint

# clang-tidy reads the compile commands of the debug build.
cmake --preset debug >/dev/null
cmake --build --preset debug --target bankd >/dev/null

if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(find service -name '*.cpp' -not -path 'service/boost/*' | sort)
fi
# GCC-only warning flags in the compile commands mean nothing to clang.
run-clang-tidy-14 -quiet -p build/debug -extra-arg=-Wno-unknown-warning-option \
  -j "$(nproc)" "${files[@]}"
