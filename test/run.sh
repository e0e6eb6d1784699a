#!/usr/bin/env bash
# The whole test suite on node's own test runner (its closing "# pass N / # fail N" lines are what CI reads).
# Node 20 does not expand globs itself, so the shell does.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(test/**/*.test.ts)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
