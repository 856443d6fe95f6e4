#!/usr/bin/env bash
# run.sh BUILD_DIR [NAME...]: runs the integration tests (build/tests/it-*, or only the named ones)
# against real infrastructure started once for the whole run, on free ports, in a temporary
# folder: PostgreSQL, nats-server with JetStream, an SMTP sink and the cloud emulator. Everything
# is torn down on exit; the servers' logs are printed when a test fails.
set -uo pipefail
B=${1:?build dir}; shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
INFRA_ROOT=$ROOT
. "$ROOT/tools/infra.sh"

tmp=$(mktemp -d /tmp/mkt-it.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  for p in "$tmp"/*.pid; do [ -e "$p" ] && infra_stop_pid "$p" 5; done
  infra_pg_stop "$tmp/pg"
  [ "${MKT_KEEP_TMP:-}" = 1 ] && { echo "kept $tmp"; return; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_port=$(infra_free_port); nats_port=$(infra_free_port); mon_port=$(infra_free_port)
smtp_port=$(infra_free_port); cloud_port=$(infra_free_port)
MKT_PG_FSYNC=off infra_pg_start "$tmp/pg" "$pg_port" || exit 1
infra_nats_start "$tmp" "$nats_port" "$mon_port" || exit 1
infra_smtp_start "$tmp" "$smtp_port" || exit 1
infra_cloudsim_start "$ROOT/$B/bin" "$tmp" "$cloud_port" "$ROOT/deploy/cloudsim-seed.json" || exit 1

export MKT_TEST_PG_DSN="host=127.0.0.1 port=$pg_port user=postgres dbname=mkt"
export MKT_TEST_NATS_URL="nats://127.0.0.1:$nats_port"
export MKT_TEST_NATS_MONITOR="http://127.0.0.1:$mon_port"
export MKT_TEST_SMTP_URL="smtp://127.0.0.1:$smtp_port"
export MKT_TEST_MAILDIR="$tmp/mail"
[ -x "$ROOT/$B/bin/cloudsim" ] && export MKT_TEST_CLOUD_URL="http://127.0.0.1:$cloud_port"
export MKT_TEST_CLOUD_SEED="$ROOT/deploy/cloudsim-seed.json"
export MKT_TEST_BIN="$ROOT/$B/bin"
export MKT_TEST_ROOT="$ROOT"
export MKT_TEST_TMP="$tmp/work"
mkdir -p "$MKT_TEST_TMP"
# Sanitizer settings for every process the tests start (services inherit them).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tests=()
if [ $# -gt 0 ]; then
  for n in "$@"; do tests+=("$ROOT/$B/tests/it-$n"); done
else
  for t in "$ROOT/$B"/tests/it-*; do [ -x "$t" ] && tests+=("$t"); done
fi

failed=0; total_pass=0; total_fail=0
for t in "${tests[@]}"; do
  name=$(basename "$t")
  echo "== $name"
  out="$tmp/$name.out"
  # Criterion runs tests in forked processes; -j1 keeps shared servers' load predictable.
  "$t" -j1 --full-stats >"$out" 2>&1
  rc=$?
  cat "$out"
  p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' "$out" | tail -1); f=$(sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p' "$out" | tail -1)
  # Sanitizer reports from the test process or from the programs it started (their logs).
  if grep -qsE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$out" "$MKT_TEST_TMP"/*.log; then
    echo "---- sanitizer report during $name:"
    grep -lsE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$out" "$MKT_TEST_TMP"/*.log
    rc=1
  fi
  rm -f "$MKT_TEST_TMP"/*.log.old; for l in "$MKT_TEST_TMP"/*.log; do [ -e "$l" ] && mv "$l" "$l.old"; done
  total_pass=$((total_pass + ${p:-0}))
  [ -n "$f" ] && total_fail=$((total_fail + ${f% *} + ${f#* }))
  if [ $rc -ne 0 ]; then
    failed=1
    [ -z "$f" ] && total_fail=$((total_fail + 1))
    echo "---- $name failed (exit $rc); server logs:"
    for log in "$tmp"/nats.log "$tmp"/smtp.log "$tmp"/cloudsim.log "$tmp"/pg/postgres.log; do
      [ -f "$log" ] && { echo "-- $log (last 30 lines)"; tail -30 "$log"; }
    done
  fi
done
echo "integration: $total_pass passed, $total_fail failed"
exit $failed
