#!/usr/bin/env bash
# Mail benchmark: mails per second from command to SMTP acceptance, for 5,000 mails, through the
# whole notifier path (mail_send publishes set_password commands on MAIL -> consumer + inbox +
# ledger insert -> LISTEN/NOTIFY -> delivery pool -> render + MIME -> libcurl SMTP on reused
# connections -> ledger update + mail.sent outbox row), next to a bare libcurl loop
# (tests/programs/mail_curl_baseline) sending the same rendered mail to the same sink in the same
# run, on one connection (before and after the notifier, averaged: the machine is shared), and on
# as many connections as the notifier uses.
#
#   bash bench/mail.sh [BUILD_DIR]               default: build
#   env: BENCH_MAIL_N (5000), MKT_MAIL_CONCURRENCY (4)
#
# Under bench/run.sh (make bench) the run's infrastructure comes in MKT_BENCH_NATS_URL,
# MKT_BENCH_PG_DSN, MKT_BENCH_SMTP_URL, MKT_BENCH_MAILDIR and MKT_BENCH_TMP; alone, the script
# starts its own (PostgreSQL with fsync on, nats-server, an aiosmtpd sink) in a temporary folder.
# Prints "ratio notifier/bare libcurl loop: R" last.
set -euo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${BENCH_MAIL_N:-5000}
CONC=${MKT_MAIL_CONCURRENCY:-4}
BIN=$ROOT/$B/bin
for p in notifier mail_send mail_curl_baseline; do
  [ -x "$BIN/$p" ] || { echo "bench/mail: $BIN/$p missing: run make" >&2; exit 1; }
done
INFRA_ROOT=$ROOT
. "$ROOT/tools/infra.sh"

own_tmp=
notifier_pid=
cleanup() {
  [ -n "$notifier_pid" ] && kill "$notifier_pid" 2>/dev/null && wait "$notifier_pid" 2>/dev/null || true
  if [ -n "$own_tmp" ]; then
    for p in "$own_tmp"/*.pid; do [ -e "$p" ] && infra_stop_pid "$p" 10; done
    infra_pg_stop "$own_tmp/pg"
    rm -rf "$own_tmp"
  fi
}
trap cleanup EXIT

if [ -z "${MKT_BENCH_NATS_URL:-}" ]; then
  own_tmp=$(mktemp -d /tmp/mkt-bench-mail.XXXXXX)
  chmod 755 "$own_tmp"
  pg_port=$(infra_free_port); nats_port=$(infra_free_port); mon_port=$(infra_free_port); smtp_port=$(infra_free_port)
  MKT_PG_FSYNC=on infra_pg_start "$own_tmp/pg" "$pg_port" >/dev/null
  infra_nats_start "$own_tmp" "$nats_port" "$mon_port"
  infra_smtp_start "$own_tmp" "$smtp_port"
  MKT_BENCH_NATS_URL="nats://127.0.0.1:$nats_port"
  MKT_BENCH_PG_DSN="host=127.0.0.1 port=$pg_port user=postgres dbname=mkt"
  MKT_BENCH_SMTP_URL="smtp://127.0.0.1:$smtp_port"
  MKT_BENCH_MAILDIR="$own_tmp/mail"
  MKT_BENCH_TMP=$own_tmp
fi
work=$MKT_BENCH_TMP/bench-mail
mkdir -p "$work"

# Mails in the sink so far (the Maildir's new/ folder; unsorted listing: cheap at any size).
mails() { local n; n=$(ls -f "$MKT_BENCH_MAILDIR/new" 2>/dev/null | wc -l); echo $((n > 2 ? n - 2 : 0)); }
now() { date +%s.%N; }
# Waits until the sink holds $1 mails (at most $2 seconds).
wait_mails() {
  local want=$1 limit=$2 start
  start=$(now)
  while [ "$(mails)" -lt "$want" ]; do
    if awk -v s="$start" -v n="$(now)" -v l="$limit" 'BEGIN { exit !(n - s > l) }'; then
      echo "bench/mail: only $(mails) of $want mails after $limit s" >&2
      tail -20 "$work/notifier.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# The notifier on the platform's own role and schema (deploy/db/init.sql), logs at warn so that
# 5,000 "queued" lines do not measure the terminal.
env MKT_NATS_URL="$MKT_BENCH_NATS_URL" MKT_PG_DSN="$MKT_BENCH_PG_DSN user=notifier" \
  MKT_SMTP_URL="$MKT_BENCH_SMTP_URL" MKT_TEMPLATES_DIR="$ROOT/services/notifier/templates" \
  MKT_MAIL_CONCURRENCY="$CONC" MKT_LOG_LEVEL=warn MKT_PUBLIC_URL=https://marketplace.example \
  "$BIN/notifier" >"$work/notifier.log" 2>&1 &
notifier_pid=$!

send() { # COUNT RECIPIENT_PATTERN
  MKT_NATS_URL=$MKT_BENCH_NATS_URL "$BIN/mail_send" -q -n "$1" -r "$2" -N "Bench User %d" -l fr \
    -v organization_name="ACME Cloud Services" -v token="tok_%d_yqZ3v0c8m2Hs5Jw9Kp1Lx4Nb6Rt7Ud" 2>>"$work/mail_send.log"
}

# Warm-up: the consumers exist, the connections are open, and one rendered mail is the baseline's.
base=$(mails)
for _ in $(seq 1 100); do send 1 "warmup@example.com" && break; sleep 0.2; done
send 19 "warmup%d@example.com"
wait_mails $((base + 20)) 60
sample=$work/sample.eml
for f in "$MKT_BENCH_MAILDIR"/new/*; do
  grep -q '^X-RcptTo: warmup' "$f" && { cp "$f" "$sample"; break; }
done
[ -s "$sample" ] || { echo "bench/mail: no warm-up mail found in $MKT_BENCH_MAILDIR" >&2; exit 1; }

echo "bench/mail: $N mails (set_password, fr, $(wc -c <"$sample") bytes each), concurrency $CONC, sink $MKT_BENCH_SMTP_URL"

# 1. bare libcurl: one loop, one connection; then as many connections as the notifier has
b1=$("$BIN/mail_curl_baseline" "$MKT_BENCH_SMTP_URL" "$N" "$sample" 1)
bn=$("$BIN/mail_curl_baseline" "$MKT_BENCH_SMTP_URL" "$N" "$sample" "$CONC")
rate1=$(sed -n 's/.*= \([0-9.]*\) mails\/s.*/\1/p' <<<"$b1")
raten=$(sed -n 's/.*= \([0-9.]*\) mails\/s.*/\1/p' <<<"$bn")

# 2. the notifier: from the first command published to the last mail accepted by the sink
base=$(mails)
t0=$(now)
send "$N" "bench%d@example.com"
t1=$(now)
wait_mails $((base + N)) 600
t2=$(now)

# 3. the one-connection loop again: the machine is shared, so the baseline brackets the notifier
b1b=$("$BIN/mail_curl_baseline" "$MKT_BENCH_SMTP_URL" "$N" "$sample" 1)
rate1b=$(sed -n 's/.*= \([0-9.]*\) mails\/s.*/\1/p' <<<"$b1b")
rate1=$(awk -v a="$rate1" -v b="$rate1b" 'BEGIN { printf "%.1f", (a + b) / 2 }')

awk -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v r1="$rate1" -v rn="$raten" -v c="$CONC" 'BEGIN {
  rate = n / (t2 - t0)
  printf "%-56s %8.0f mails/s  (%.2f s; commands published in %.2f s)\n", "notifier: command -> SMTP acceptance", rate, t2 - t0, t1 - t0
  printf "%-56s %8.0f mails/s  (mean of the runs before and after)\n", "baseline: bare libcurl loop, 1 connection", r1
  printf "%-56s %8.0f mails/s\n", sprintf("baseline: bare libcurl, %d connections", c), rn
  printf "ratio notifier/bare libcurl, %d connections: %.3f\n", c, rate / rn
  printf "ratio notifier/bare libcurl loop: %.3f\n", rate / r1
}'
kill "$notifier_pid" 2>/dev/null
wait "$notifier_pid" 2>/dev/null && rc=0 || rc=$?
notifier_pid=
[ "$rc" = 0 ] || { echo "bench/mail: the notifier exited $rc after SIGTERM" >&2; tail -20 "$work/notifier.log" >&2; exit 1; }
