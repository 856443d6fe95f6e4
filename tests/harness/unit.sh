#!/usr/bin/env bash
# unit.sh BIN...: runs the Criterion unit-test binaries and prints one closing line.
set -uo pipefail
failed=0; pass=0; fail=0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
for t in "$@"; do
  echo "== $(basename "$t")"
  out=$(mktemp)
  # UNIT_WRAPPER runs each binary under a tool (make valgrind sets it to valgrind).
  ${UNIT_WRAPPER:-} "$t" --full-stats >"$out" 2>&1; rc=$?
  cat "$out"
  p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p' "$out" | tail -1)
  pass=$((pass + ${p:-0})); [ -n "$f" ] && fail=$((fail + ${f% *} + ${f#* }))
  # Criterion counts a test that leaks or trips UBSan as passed: any sanitizer report fails the run.
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$out"; then
    echo "sanitizer report in $(basename "$t")"; rc=1
  fi
  [ $rc -ne 0 ] && { failed=1; [ -z "$f" ] && fail=$((fail + 1)); }
  rm -f "$out"
done
echo "unit: $pass passed, $fail failed"
exit $failed
