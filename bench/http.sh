#!/usr/bin/env bash
# HTTP benchmark: wrk (-t2 -c64 -d5s, keep-alive) against a) GET /v1/regions through the running
# gateway and b) tests/programs/http_baseline, a bare libmicrohttpd server with the same flags
# answering a constant small JSON body; prints requests/s, p99 latency and the gateway/baseline
# ratio. The platform must already be running (make up).
#
#   bash bench/http.sh [BUILD_DIR [GATEWAY_URL]]      defaults: build  http://127.0.0.1:8080
#   env: BENCH_DURATION (5s), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BASELINE_THREADS (8)
set -euo pipefail

B=${1:-build}
URL=${2:-http://127.0.0.1:8080}
URL=${URL%/}
DUR=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_THREADS:-2}
BASE_THREADS=${BASELINE_THREADS:-8}

command -v wrk >/dev/null || { echo "bench/http: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$B/bin/http_baseline" ] || { echo "bench/http: $B/bin/http_baseline missing (make $B/bin/http_baseline)" >&2; exit 1; }

tmp=$(mktemp -d)
base_pid=
cleanup() {
  [ -n "$base_pid" ] && kill "$base_pid" 2>/dev/null && wait "$base_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Runs wrk on $1 and prints "RPS P99_MS NON2XX".
measure() {
  local out=$tmp/wrk.txt
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DUR" --latency "$1" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  awk '
    /Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /^ +99%/ {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      ms = (unit == "us") ? v / 1000 : (unit == "ms") ? v : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { printf "%s %.3f %d\n", rps == "" ? 0 : rps, ms, bad }' "$out"
}

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/regions" || true)
if [ "$code" != "200" ]; then
  echo "bench/http: $URL/v1/regions answers '$code', not 200: is the platform up (make up)?" >&2
  exit 1
fi

echo "bench/http: wrk -t$WRK_THREADS -c$CONNS -d$DUR (keep-alive)"
read -r gw_rps gw_p99 gw_bad < <(measure "$URL/v1/regions")

"$B/bin/http_baseline" 0 "$BASE_THREADS" >"$tmp/baseline.out" 2>"$tmp/baseline.err" &
base_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(awk '/^listening on/ { print $3 }' "$tmp/baseline.out")
  [ -n "$port" ] && break
  kill -0 "$base_pid" 2>/dev/null || { cat "$tmp/baseline.err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "bench/http: http_baseline did not start" >&2; exit 1; }
read -r base_rps base_p99 base_bad < <(measure "http://127.0.0.1:$port/")

printf '%-28s %12s %10s %8s\n' "target" "requests/s" "p99 ms" "non-2xx"
printf '%-28s %12.0f %10.3f %8d\n' "gateway GET /v1/regions" "$gw_rps" "$gw_p99" "$gw_bad"
printf '%-28s %12.0f %10.3f %8d\n' "baseline (bare MHD)" "$base_rps" "$base_p99" "$base_bad"
awk -v g="$gw_rps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "ratio gateway/baseline: %.3f\n", g / b; else print "ratio gateway/baseline: n/a" }'
[ "$gw_bad" -eq 0 ] || echo "bench/http: warning: $gw_bad non-2xx answers from the gateway" >&2
