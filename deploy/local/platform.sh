#!/usr/bin/env bash
# platform.sh up|down|status|logs|cloud-env BUILD_DIR: runs the whole platform locally as plain processes,
# everything under .run/ at the repository root (data, logs, pids, the SMTP sink's Maildir at
# .run/mail/): PostgreSQL, nats-server with JetStream, an SMTP sink, the cloud emulator, and every
# service. `up` is idempotent (what runs is left alone); `down` stops exactly what `up` started;
# `cloud-env` prints the emulator's demo accounts as OUTSCALE's own tools are configured.
set -uo pipefail
cmd=${1:?up|down|status|logs}; B=${2:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
INFRA_ROOT=$ROOT
. "$ROOT/tools/infra.sh"
RUN=$ROOT/.run
BIN=$ROOT/$B/bin

HTTP_ADDR=${MKT_HTTP_ADDR:-127.0.0.1:8080}
PG_PORT=${MKT_LOCAL_PG_PORT:-54329}
NATS_PORT=${MKT_LOCAL_NATS_PORT:-42229}
NATS_MON=${MKT_LOCAL_NATS_MONITOR:-42230}
SMTP_PORT=${MKT_LOCAL_SMTP_PORT:-2525}
CLOUD_PORT=${MKT_LOCAL_CLOUD_PORT:-3000}
SERVICES=(identity catalog publisher billing notifier gateway)
SEED=$ROOT/deploy/cloudsim-seed.json

# Secrets of the local platform, made once and kept under .run/ (git-ignored): the vault master
# key that encrypts the platform's cloud keys at rest, and the operator's password unless
# MKT_OPERATOR_PASSWORD is given.
OPERATOR_EMAIL=${MKT_OPERATOR_EMAIL:-operator@marketplace.local}
local_secret() { # FILE BYTES [SUFFIX]: prints the file's content, creating it with random base64 first
  [ -s "$1" ] || { mkdir -p "$(dirname "$1")"; printf '%s%s' "$(head -c "$2" /dev/urandom | base64 -w0)" "${3:-}" >"$1"; chmod 600 "$1"; }
  cat "$1"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

service_env() { # NAME: the environment of one service
  local s=$1
  echo "MKT_NATS_URL=nats://127.0.0.1:$NATS_PORT"
  [ "$s" != gateway ] && echo "MKT_PG_DSN=host=127.0.0.1 port=$PG_PORT user=$s dbname=mkt"
  echo "OSC_ENDPOINT_API=http://127.0.0.1:$CLOUD_PORT"
  case $s in
    gateway) echo "MKT_HTTP_ADDR=$HTTP_ADDR" ;;
    identity)
      echo "MKT_VAULT_KEY=$(local_secret "$RUN/secrets/vault.key" 32)"
      echo "MKT_OPERATOR_EMAIL=$OPERATOR_EMAIL"
      echo "MKT_OPERATOR_PASSWORD=${MKT_OPERATOR_PASSWORD:-$(local_secret "$RUN/secrets/operator.password" 15 '-Op9')}" ;;
    publisher) # the emulator's distribution account (deploy/cloudsim-seed.json, 100000000001)
      echo "MKT_DISTRIBUTION_ACCESS_KEY=MKTDISTRIBUTION00001"
      echo "MKT_DISTRIBUTION_SECRET_KEY=DISTRIBUTIONDEMOSECRETKEY000000000000001" ;;
    notifier)
      echo "MKT_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
      echo "MKT_TEMPLATES_DIR=$ROOT/services/notifier/templates"
      echo "MKT_PUBLIC_URL=${MKT_PUBLIC_URL:-http://$HTTP_ADDR}" ;;
  esac
}

start_service() {
  local s=$1 pidfile=$RUN/$1.pid
  alive "$pidfile" && return 0
  [ -x "$BIN/$s" ] || { echo "missing $BIN/$s: run make" >&2; return 1; }
  local envs=()
  while IFS= read -r line; do envs+=("$line"); done < <(service_env "$s")
  infra_bg "$s" "$pidfile" "$RUN/logs/$s.log" env "${envs[@]}" "$BIN/$s"
}

up() {
  mkdir -p "$RUN/logs"
  chmod 755 "$RUN"
  if ! alive "$RUN/pg/data/postmaster.pid" 2>/dev/null && ! [ -S "$RUN/pg/.s.PGSQL.$PG_PORT" ]; then
    echo "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    infra_pg_start "$RUN/pg" "$PG_PORT" || return 1
  fi
  if ! alive "$RUN/nats.pid"; then
    echo "starting nats-server (JetStream) on 127.0.0.1:$NATS_PORT"
    infra_nats_start "$RUN" "$NATS_PORT" "$NATS_MON" || return 1
    mv -f "$RUN/nats.log" "$RUN/logs/nats.log" 2>/dev/null; ln -sf logs/nats.log "$RUN/nats.log"
  fi
  if ! alive "$RUN/smtp.pid"; then
    echo "starting the SMTP sink on 127.0.0.1:$SMTP_PORT (Maildir .run/mail)"
    infra_smtp_start "$RUN" "$SMTP_PORT" || return 1
  fi
  if ! alive "$RUN/cloudsim.pid" && [ -x "$BIN/cloudsim" ]; then
    echo "starting the cloud emulator on 127.0.0.1:$CLOUD_PORT"
    infra_cloudsim_start "$BIN" "$RUN" "$CLOUD_PORT" "$SEED" || return 1
  fi
  alive "$RUN/gateway.pid" || infra_port_free "${HTTP_ADDR##*:}" || return 1
  for s in "${SERVICES[@]}"; do start_service "$s" || return 1; done
  local url="http://$HTTP_ADDR" i
  printf 'waiting for %s/readyz ' "$url"
  for ((i = 0; i < 120; i++)); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; then
      echo "ok"
      cat <<MSG

The marketplace platform is up.
  gateway        $url          (try: curl $url/v1/regions)
  readiness      $url/readyz
  mails          $RUN/mail/new/   (Maildir of the SMTP sink on 127.0.0.1:$SMTP_PORT)
  cloud emulator http://127.0.0.1:$CLOUD_PORT or http://api.<region>.localhost:$CLOUD_PORT
                 (state: curl http://127.0.0.1:$CLOUD_PORT/_sim/state)
  events         MKT_NATS_URL=nats://127.0.0.1:$NATS_PORT $BIN/mktctl events tail
  logs           make logs   (files in $RUN/logs/)
  stop           make down
MSG
      local op_pw=${MKT_OPERATOR_PASSWORD:-$(cat "$RUN/secrets/operator.password")}
      echo "Operator account: $OPERATOR_EMAIL / $op_pw"
      python3 "$ROOT/deploy/local/seed.py" "$url" "$RUN/mail" "$RUN/secrets" "$OPERATOR_EMAIL" "$op_pw" ||
        echo "(the demo data could not be seeded: see above and make logs)"
      cloud_env
      return 0
    fi
    printf '.'; sleep 0.5
  done
  echo " not ready after 60 s:"; curl -s "$url/readyz"; echo; echo "see make logs"; return 1
}

# The demo accounts as OUTSCALE's own tools (oapi-cli, osc-sdk-c, curl --aws-sigv4 osc) reach
# them: an endpoint named like the cloud's (api.<region>.localhost resolves to loopback with no
# configuration), from which they derive the Region and the signing service, and the variables
# to paste into a shell. `platform.sh cloud-env` prints just this.
cloud_env() {
  [ -f "$SEED" ] || return 0
  echo "Demo OUTSCALE accounts in the emulator (deploy/cloudsim-seed.json), for OUTSCALE's tools:"
  /usr/bin/python3 - "$SEED" "$CLOUD_PORT" <<'PY'
import json, sys
seed, port = sys.argv[1], sys.argv[2]
for a in json.load(open(seed))["accounts"]:
    region = a["regions"][0]
    print("  %s  %s  (Regions: %s)" % (a["account_id"], a.get("email", ""), " ".join(a["regions"])))
    print("    export OSC_ENDPOINT_API=http://api.%s.localhost:%s OSC_REGION=%s OSC_ACCESS_KEY=%s OSC_SECRET_KEY=%s"
          % (region, port, region, a["access_key"], a["secret_key"]))
PY
  cat <<MSG
  Another Region: http://api.<region>.localhost:$CLOUD_PORT. Tools that want the path in the
  endpoint (osc-sdk-go, Terraform, Packer): append /api/v1. Try:
    curl --aws-sigv4 osc --user "\$OSC_ACCESS_KEY:\$OSC_SECRET_KEY" -H 'Content-Type: application/json' \\
         -d '{}' "\$OSC_ENDPOINT_API/api/v1/ReadVms"
MSG
}

down() {
  for s in gateway notifier billing publisher catalog identity; do infra_stop_pid "$RUN/$s.pid" 20; done
  infra_stop_pid "$RUN/cloudsim.pid"; infra_stop_pid "$RUN/smtp.pid"; infra_stop_pid "$RUN/nats.pid"
  infra_pg_stop "$RUN/pg"
  echo "stopped"
}

status() {
  for p in nats smtp cloudsim "${SERVICES[@]}"; do
    if alive "$RUN/$p.pid"; then echo "$p: running (pid $(cat "$RUN/$p.pid"))"; else echo "$p: stopped"; fi
  done
  if [ -f "$RUN/pg/data/postmaster.pid" ]; then echo "postgres: running"; else echo "postgres: stopped"; fi
  curl -s "http://$HTTP_ADDR/readyz" && echo
}

logs() { tail -n 20 "$RUN"/logs/*.log; }

case $cmd in
  up) up ;; down) down ;; status) status ;; logs) logs ;; cloud-env) cloud_env ;;
  *) echo "usage: $0 up|down|status|logs|cloud-env" >&2; exit 2 ;;
esac
