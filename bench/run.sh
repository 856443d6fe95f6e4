#!/usr/bin/env bash
# run.sh BUILD_DIR (`make bench`): the platform's benchmarks, each against its own baseline
# measured in the same run, on infrastructure of its own started on free ports in a temporary
# folder, as tests/harness/run.sh does (PostgreSQL with fsync ON: commit figures are realistic;
# nats-server with JetStream; the SMTP sink only for bench/mail.sh), torn down on exit.
#
#   1. HTTP    catalog + gateway, GET /v1/regions vs a bare libmicrohttpd server (bench/http.sh)
#   2. bus     lib/bus request/reply vs bare cnats request/reply (bench_bus)
#   3. events  outbox -> relay -> JetStream -> inbox consumer vs raw JetStream publish (bench_chain)
#   4. mail    bench/mail.sh, when present and executable
#
# Each prints its measured figure, its baseline and their ratio; a summary of the ratios ends the
# run. Ratios are what to compare between runs: the machine is shared, absolute figures move.
# Env: BENCH_ONLY="http bus chain mail" (a subset), BENCH_BUS_N (2000 round trips per run),
# BENCH_BUS_ROUNDS (7), BENCH_CHAIN_N (20000), BENCH_DURATION (wrk, 5s), MKT_KEEP_TMP=1.
# docs/BENCHMARKS.md explains every figure.
set -uo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INFRA_ROOT=$ROOT
. "$ROOT/tools/infra.sh"
cd "$ROOT" # bench/http.sh takes the build folder relative to the repository
BIN=$ROOT/$B/bin
ONLY=" ${BENCH_ONLY:-http bus chain mail auth argon2} "
want() { [[ $ONLY == *" $1 "* ]]; }

tmp=$(mktemp -d /tmp/mkt-bench.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  for p in "$tmp"/*.pid; do [ -e "$p" ] && infra_stop_pid "$p" 10; done
  infra_pg_stop "$tmp/pg"
  [ "${MKT_KEEP_TMP:-}" = 1 ] && { echo "kept $tmp"; return; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in catalog gateway http_baseline bench_bus bench_chain; do
  [ -x "$BIN/$p" ] || { echo "bench: $BIN/$p missing: run make" >&2; exit 1; }
done
mail=
want mail && [ -x bench/mail.sh ] && mail=1

pg_port=$(infra_free_port); nats_port=$(infra_free_port); mon_port=$(infra_free_port); http_port=$(infra_free_port)
MKT_PG_FSYNC=on infra_pg_start "$tmp/pg" "$pg_port" || exit 1
infra_nats_start "$tmp" "$nats_port" "$mon_port" || exit 1
if [ -n "$mail" ]; then
  smtp_port=$(infra_free_port)
  infra_smtp_start "$tmp" "$smtp_port" || exit 1
fi
NATS_URL="nats://127.0.0.1:$nats_port"
PG_ADMIN_DSN="host=127.0.0.1 port=$pg_port user=postgres dbname=mkt"
psql_admin() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mkt -v ON_ERROR_STOP=1 -qtA "$@"; }

echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "PostgreSQL fsync=$(psql_admin -c 'SHOW fsync'), $(nats-server --version 2>&1 | head -1)"

failed=()
declare -A ratio

# Logs of the failed step's processes, for the reader.
show_logs() { for f in "$@"; do [ -f "$f" ] && { echo "-- $f (last 20 lines)"; tail -20 "$f"; }; done; }

# Starts a service from $BIN with the environment deploy/local/platform.sh gives it.
start_service() { # NAME ENV...
  local s=$1; shift
  infra_bg "$s" "$tmp/$s.pid" "$tmp/$s.log" env "$@" "$BIN/$s"
}

# ---- 1. HTTP ----------------------------------------------------------------------------------
bench_http() {
  echo; echo "== 1. HTTP: gateway GET /v1/regions (gateway -> NATS -> catalog -> PostgreSQL) vs bare libmicrohttpd"
  start_service catalog MKT_NATS_URL="$NATS_URL" MKT_PG_DSN="host=127.0.0.1 port=$pg_port user=catalog dbname=mkt"
  # The per-address rate limit (50/s by default) would answer wrk's one address with 429s: raise
  # it out of reach, keeping the limiter itself in the path as in production.
  start_service gateway MKT_NATS_URL="$NATS_URL" MKT_HTTP_ADDR="127.0.0.1:$http_port" \
    MKT_RATE_PER_S=1000000 MKT_RATE_BURST=1000000
  # /readyz wants all six services: GET /v1/regions answering 200 is what this benchmark needs.
  local url="http://127.0.0.1:$http_port" code= i
  for ((i = 0; i < 120; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/regions" || true)
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  if [ "$code" != 200 ]; then
    echo "bench: GET $url/v1/regions answers '$code' after 30 s" >&2
    show_logs "$tmp/catalog.log" "$tmp/gateway.log"
    return 1
  fi
  local out=$tmp/http.out rc
  bash bench/http.sh "$B" "$url" | tee "$out"
  rc=${PIPESTATUS[0]}
  ratio[http]=$(sed -n 's/^ratio gateway\/baseline: //p' "$out")
  # Refusals are fast: a run with non-2xx answers measures them, not the gateway.
  local bad
  bad=$(awk '/^gateway GET/ { print $NF }' "$out")
  if [ "$rc" = 0 ] && [ "${bad:-0}" != 0 ]; then
    echo "bench: the gateway answered $bad requests with non-2xx: the HTTP figures are not valid" >&2
    ratio[http]="invalid (${ratio[http]:-n/a}, $bad non-2xx)"
    rc=1
  fi
  # Stop them now, so they take no CPU from the next benchmarks.
  infra_stop_pid "$tmp/gateway.pid" 10; infra_stop_pid "$tmp/catalog.pid" 10
  [ "$rc" = 0 ] || show_logs "$tmp/catalog.log" "$tmp/gateway.log"
  return "$rc"
}

# ---- 2. bus -----------------------------------------------------------------------------------
bench_bus() {
  echo; echo "== 2. bus: lib/bus (bus_call -> bus_serve on a pool of 2) vs bare cnats request/reply"
  local out=$tmp/bus.out rc
  MKT_NATS_URL=$NATS_URL "$BIN/bench_bus" "${BENCH_BUS_N:-2000}" "${BENCH_BUS_ROUNDS:-7}" | tee "$out"
  rc=${PIPESTATUS[0]}
  ratio[bus]=$(sed -n 's/^ratio bus\/bare (1 client thread): round trips\/s \([0-9.]*\).*/\1/p' "$out")
  ratio[bus2]=$(sed -n 's/^ratio bus\/bare (2 client threads): round trips\/s \([0-9.]*\).*/\1/p' "$out")
  return "$rc"
}

# ---- 3. events --------------------------------------------------------------------------------
# A login role and a schema of its own, as tests/support/harness.c th_service_dsn makes them.
service_role() { # NAME
  psql_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 LOGIN; END IF; END \$\$;" \
    -c "CREATE SCHEMA IF NOT EXISTS $1 AUTHORIZATION $1" -c "ALTER ROLE $1 SET search_path = $1" >/dev/null
}

bench_chain() {
  echo; echo "== 3. events: outbox -> relay -> JetStream -> inbox consumer vs raw JetStream async publish"
  service_role bench_producer && service_role bench_consumer || return 1
  local out=$tmp/chain.out rc
  MKT_NATS_URL=$NATS_URL BENCH_CHAIN_N=${BENCH_CHAIN_N:-20000} \
    BENCH_PRODUCER_DSN="$PG_ADMIN_DSN user=bench_producer" BENCH_CONSUMER_DSN="$PG_ADMIN_DSN user=bench_consumer" \
    "$BIN/bench_chain" | tee "$out"
  rc=${PIPESTATUS[0]}
  ratio[chain]=$(sed -n 's/^ratio chain\/raw: //p' "$out")
  [ "$rc" = 0 ] || return "$rc"
  # The database's own ceiling for the consumer's work: the same transaction per event (inbox
  # claim + effects row, fsync on commit), from as many clients as consumer workers, no NATS.
  command -v pgbench >/dev/null || { echo "(pgbench not installed: no database ceiling)"; return 0; }
  cat >"$tmp/consumer_tx.sql" <<'SQL'
\set seq random(1, 1000000000)
BEGIN;
INSERT INTO inbox(consumer, event_id) VALUES ('pgbench', gen_random_uuid()::text);
INSERT INTO effects(seq, event_id, lag_us) VALUES (:seq, 'pgbench', 0);
COMMIT;
SQL
  local tps
  tps=$(pgbench -h 127.0.0.1 -p "$pg_port" -U bench_consumer -n -c "${BENCH_CHAIN_WORKERS:-4}" -j 2 -T 4 \
    -f "$tmp/consumer_tx.sql" mkt 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  if [ -n "$tps" ]; then
    printf '%-52s %10.0f\n' "database ceiling: the consumer's transaction (pgbench)" "$tps"
    local backlog
    backlog=$(sed -n 's/^outbox chain, backlog: relay start -> last processed *\([0-9]*\)$/\1/p' "$out")
    [ -n "$backlog" ] && awk -v b="$backlog" -v t="$tps" 'BEGIN { printf "ratio chain backlog/database ceiling: %.3f\n", b / t }'
  fi
  return 0
}

# ---- 5. auth: token resolution through the gateway ----------------------------------------------
# identity with an operator account; the gateway of section 1 (started here when it is not).
bench_auth() {
  echo; echo "== 5. auth: authenticated GET /v1/me (gateway -> identity) vs GET /healthz"
  local url="http://127.0.0.1:$http_port" email=bench-operator@marketplace.local password='Bench-Operator-9'
  start_service identity MKT_NATS_URL="$NATS_URL" MKT_PG_DSN="host=127.0.0.1 port=$pg_port user=identity dbname=mkt"     MKT_VAULT_KEY="$(head -c 32 /dev/urandom | base64 -w0)" MKT_OPERATOR_EMAIL=$email MKT_OPERATOR_PASSWORD=$password
  [ -f "$tmp/gateway.pid" ] && kill -0 "$(cat "$tmp/gateway.pid")" 2>/dev/null ||
    start_service gateway MKT_NATS_URL="$NATS_URL" MKT_HTTP_ADDR="127.0.0.1:$http_port"       MKT_RATE_PER_S=1000000 MKT_RATE_BURST=1000000
  local code= i
  for ((i = 0; i < 120; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json'       -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$url/v1/sessions" || true)
    [ "$code" = 201 ] && break
    sleep 0.25
  done
  if [ "$code" != 201 ]; then
    echo "bench: login through $url answers '$code'" >&2
    show_logs "$tmp/identity.log" "$tmp/gateway.log"
    return 1
  fi
  local out=$tmp/auth.out rc
  BENCH_EMAIL=$email BENCH_PASSWORD=$password bash bench/auth.sh "$url" | tee "$out"
  rc=${PIPESTATUS[0]}
  ratio[auth]=$(sed -n 's/^ratio me\/healthz: //p' "$out")
  return "$rc"
}

# ---- 6. argon2id: time per password hash (no infrastructure) -------------------------------------
bench_argon2() {
  echo; echo "== 6. argon2id (identity's password hashing)"
  bash bench/identity.sh "$B"
}

# ---- 4. mail ----------------------------------------------------------------------------------
# bench/mail.sh gets the build folder and, in the environment, this run's infrastructure.
bench_mail() {
  echo; echo "== 4. mail: bench/mail.sh"
  local out=$tmp/mail.out rc
  MKT_BENCH_NATS_URL=$NATS_URL MKT_BENCH_PG_DSN=$PG_ADMIN_DSN MKT_BENCH_PG_PORT=$pg_port \
    MKT_BENCH_SMTP_URL="smtp://127.0.0.1:$smtp_port" MKT_BENCH_MAILDIR="$tmp/mail" MKT_BENCH_TMP="$tmp" \
    bash bench/mail.sh "$B" | tee "$out"
  rc=${PIPESTATUS[0]}
  ratio[mail]=$(grep -i '^ratio' "$out" | tail -1 | sed 's/^[^:]*: *//')
  return "$rc"
}

want http && { bench_http || failed+=(http); }
want bus && { bench_bus || failed+=(bus); }
want chain && { bench_chain || failed+=(chain); }
[ -n "$mail" ] && { bench_mail || failed+=(mail); }
want auth && { bench_auth || failed+=(auth); }
want argon2 && { bench_argon2 || failed+=(argon2); }

echo
echo "== summary (ratios measured against the same run's baselines; higher is closer to the baseline)"
want http && printf '  %-52s %s\n' "HTTP   gateway/bare MHD, requests/s" "${ratio[http]:-n/a}"
want bus && printf '  %-52s %s\n' "bus    lib/bus/bare cnats, round trips/s, 1 client" "${ratio[bus]:-n/a}"
want bus && printf '  %-52s %s\n' "bus    lib/bus/bare cnats, round trips/s, 2 clients" "${ratio[bus2]:-n/a}"
want chain && printf '  %-52s %s\n' "events outbox chain/raw JetStream publish, events/s" "${ratio[chain]:-n/a}"
[ -n "$mail" ] && printf '  %-52s %s\n' "mail   bench/mail.sh" "${ratio[mail]:-n/a}"
want mail && [ -z "$mail" ] && echo "  mail   skipped: bench/mail.sh is not present (or not executable)"
want auth && printf '  %-52s %s\n' "auth   GET /v1/me / GET /healthz, requests/s" "${ratio[auth]:-n/a}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
