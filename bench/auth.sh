#!/usr/bin/env bash
# Authentication benchmark: wrk (keep-alive) against a running gateway, in the same run:
#   a) GET /v1/me with Authorization: Bearer <token>   (rate limit, token cache or
#      identity.resolve, authorization, identity.get_me over NATS, JSON)
#   b) GET /healthz                                    (the gateway alone: routing, request id, log)
# and prints requests/s, p99 latency, non-2xx counts and the ratio a/b.
#
#   bash bench/auth.sh GATEWAY_URL TOKEN
#   bash bench/auth.sh GATEWAY_URL            with BENCH_EMAIL and BENCH_PASSWORD: logs in first
#   env: BENCH_DURATION (5s), BENCH_CONNECTIONS (64), BENCH_THREADS (2)
#
# The gateway must not rate-limit the benchmark: start it with MKT_RATE_PER_S=0 (or a rate well
# above what it serves), else /v1/me turns into 429s and the script says so. The token cache
# (MKT_AUTH_CACHE_MS, 1000 by default) makes most resolutions local; run the gateway with
# MKT_AUTH_CACHE_MS=0 to measure a resolve on every request.
set -euo pipefail

URL=${1:?usage: bench/auth.sh GATEWAY_URL [TOKEN]}
URL=${URL%/}
TOKEN=${2:-}
DUR=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_THREADS:-2}

command -v wrk >/dev/null || { echo "bench/auth: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/auth: curl is not installed" >&2; exit 1; }

if [ -z "$TOKEN" ]; then
  [ -n "${BENCH_EMAIL:-}" ] && [ -n "${BENCH_PASSWORD:-}" ] ||
    { echo "bench/auth: give a token, or BENCH_EMAIL and BENCH_PASSWORD to log in" >&2; exit 1; }
  body=$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' \
    "$BENCH_EMAIL" "$BENCH_PASSWORD")
  answer=$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$URL/v1/sessions")
  TOKEN=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("token", ""))' 2>/dev/null || true)
  [ -n "$TOKEN" ] || { echo "bench/auth: login failed: $answer" >&2; exit 1; }
fi

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/me" || true)
if [ "$code" != "200" ]; then
  echo "bench/auth: GET $URL/v1/me with the token answers '$code', not 200 (platform up? token valid?)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs wrk with optional extra arguments before the URL; prints "RPS P99_MS NON2XX".
measure() {
  local out=$tmp/wrk.txt
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DUR" --latency "$@" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  awk '
    /Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /^ +99%/ {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      ms = (unit == "us") ? v / 1000 : (unit == "ms") ? v : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { printf "%s %.3f %d\n", rps == "" ? 0 : rps, ms, bad }' "$out"
}

echo "bench/auth: wrk -t$WRK_THREADS -c$CONNS -d$DUR (keep-alive) against $URL"
read -r me_rps me_p99 me_bad < <(measure -H "Authorization: Bearer $TOKEN" "$URL/v1/me")
read -r hz_rps hz_p99 hz_bad < <(measure "$URL/healthz")

printf '%-34s %12s %10s %8s\n' "target" "requests/s" "p99 ms" "non-2xx"
printf '%-34s %12.0f %10.3f %8d\n' "GET /v1/me (authenticated)" "$me_rps" "$me_p99" "$me_bad"
printf '%-34s %12.0f %10.3f %8d\n' "GET /healthz (gateway alone)" "$hz_rps" "$hz_p99" "$hz_bad"
awk -v a="$me_rps" -v b="$hz_rps" 'BEGIN { if (b > 0) printf "ratio me/healthz: %.3f\n", a / b; else print "ratio me/healthz: n/a" }'
if [ "$me_bad" -gt 0 ]; then
  c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/v1/me" || true)
  echo "bench/auth: warning: $me_bad non-2xx answers on /v1/me (now: $c)" >&2
  [ "$c" = 429 ] && echo "bench/auth: the gateway rate-limits this client: start it with MKT_RATE_PER_S=0" >&2
fi
exit 0
