# Functions that start and stop the platform's real dependencies as plain processes: PostgreSQL
# (initdb into a folder, run as the postgres user when we are root), nats-server with JetStream,
# an aiosmtpd SMTP sink writing a Maildir, and the cloud emulator. Sourced by
# deploy/local/platform.sh (make up) and tests/harness/run.sh (make test), so both run the same.

PG_BIN=${PG_BIN:-$(dirname "$(dpkg -L postgresql-15 2>/dev/null | grep '/bin/initdb$' | head -1)")}
SYS_PYTHON=/usr/bin/python3

infra_free_port() {
  "$SYS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres user when we are root (initdb and postgres refuse root).
infra_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# infra_pg_start DIR PORT: initdb on first use, start, create database mkt and the service roles.
infra_pg_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir/data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/data"
    infra_as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { echo "initdb failed, see $dir/initdb.log" >&2; cat "$dir/initdb.log" >&2; return 1; }
  fi
  infra_as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${MKT_PG_FSYNC:-on} -c max_connections=300" start >/dev/null \
    || { echo "postgres did not start, see $dir/postgres.log" >&2; tail -20 "$dir/postgres.log" >&2; return 1; }
  local psql=(psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q)
  "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='mkt'" | grep -q 1 \
    || "${psql[@]}" -d postgres -c "CREATE DATABASE mkt" >/dev/null
  "${psql[@]}" -d mkt -f "$INFRA_ROOT/deploy/db/init.sql" >/dev/null
}

infra_pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] && infra_as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

# infra_bg NAME PIDFILE LOG CMD...: starts CMD in the background, records its pid.
infra_bg() {
  local name=$1 pidfile=$2 log=$3; shift 3
  setsid "$@" >>"$log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
}

# infra_port_free PORT: fails, saying so, when something already listens on 127.0.0.1:PORT.
infra_port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "port 127.0.0.1:$1 is already in use by another program; stop it or choose another port" >&2
    return 1
  fi
}

# infra_wait_tcp PORT SECONDS: waits until something listens on 127.0.0.1:PORT.
infra_wait_tcp() {
  local port=$1 secs=${2:-20} i
  for ((i = 0; i < secs * 20; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

infra_nats_start() { # DIR PORT MONITOR_PORT
  local dir=$1 port=$2 mon=$3
  infra_port_free "$port" || return 1
  mkdir -p "$dir/jetstream"
  infra_bg nats "$dir/nats.pid" "$dir/nats.log" nats-server -a 127.0.0.1 -p "$port" -m "$mon" -js -sd "$dir/jetstream"
  infra_wait_tcp "$port" 20 || { echo "nats-server did not start" >&2; tail "$dir/nats.log" >&2; return 1; }
}

infra_smtp_start() { # DIR PORT (Maildir at DIR/mail)
  local dir=$1 port=$2
  infra_port_free "$port" || return 1
  # aiosmtpd's Mailbox handler creates the Maildir; an existing empty folder makes it fail.
  [ -d "$dir/mail" ] && [ -z "$(ls -A "$dir/mail")" ] && rmdir "$dir/mail"
  infra_bg smtp "$dir/smtp.pid" "$dir/smtp.log" "$SYS_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c aiosmtpd.handlers.Mailbox "$dir/mail"
  infra_wait_tcp "$port" 20 || { echo "SMTP sink did not start" >&2; tail "$dir/smtp.log" >&2; return 1; }
}

infra_cloudsim_start() { # BIN_DIR DIR PORT SEED
  local bin=$1 dir=$2 port=$3 seed=$4
  [ -x "$bin/cloudsim" ] || return 0
  infra_port_free "$port" || return 1
  infra_bg cloudsim "$dir/cloudsim.pid" "$dir/cloudsim.log" "$bin/cloudsim" --listen "127.0.0.1:$port" \
    --seed "$seed" --state "$dir/cloudsim-state.json" ${MKT_CLOUDSIM_ARGS:-}
  infra_wait_tcp "$port" 20 || { echo "cloudsim did not start" >&2; tail "$dir/cloudsim.log" >&2; return 1; }
}

# infra_stop_pid PIDFILE [SECONDS]: SIGTERM, wait, then SIGKILL; removes the pid file.
infra_stop_pid() {
  local pidfile=$1 secs=${2:-10} pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < secs * 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}
