#!/usr/bin/env bash
# A throwaway PostgreSQL for the store tests: installs Debian's `postgresql` if it is missing,
# creates a cluster in a scratch directory (trust authentication, 127.0.0.1 only, fsync off:
# never use it for real data), starts it on a free port, creates the database `switchboard_test`,
# and prints the line to export its URL. Idempotent: a cluster already running in the directory
# is reused.
#
#   eval "$(scripts/start-postgres.sh)"     # exports SWITCHBOARD_TEST_POSTGRES_URL
#   scripts/start-postgres.sh --stop        # stops it
#
# SWITCHBOARD_PG_DIR picks the directory (default: $TMPDIR/switchboard-pg-$UID). As root, the
# server runs as the `postgres` user (PostgreSQL refuses to run as root). Progress goes to
# stderr; stdout has only the export line.
set -euo pipefail

DIR="${SWITCHBOARD_PG_DIR:-${TMPDIR:-/tmp}/switchboard-pg-$(id -u)}"
DATA="$DIR/data"
DB=switchboard_test
log() { echo "start-postgres: $*" >&2; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$d" && -x "$d/pg_ctl" ]] && echo "$d"
}

BIN=$(pg_bin || true)
if [[ -z "$BIN" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    log "PostgreSQL is not installed; run: sudo apt-get install -y postgresql"
    exit 1
  fi
  log "installing postgresql (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
  BIN=$(pg_bin)
fi

# Run PostgreSQL's tools as `postgres` when we are root, as ourselves otherwise.
if [[ $(id -u) -eq 0 ]]; then
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

if [[ "${1:-}" == "--stop" ]]; then
  if [[ -f "$DATA/postmaster.pid" ]]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi

mkdir -p "$DIR"
chown "$OWNER" "$DIR"
chmod 700 "$DIR"

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  log "creating a cluster in $DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi

port_file="$DIR/port"
if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 && [[ -f "$port_file" ]]; then
  PORT=$(cat "$port_file")
  log "already running on 127.0.0.1:$PORT"
else
  PORT=""
  for p in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      PORT=$p
      break
    fi
  done
  [[ -n "$PORT" ]] || { log "no free port found"; exit 1; }
  echo "$PORT" >"$port_file"
  log "starting on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
    start >&2 || { log "failed; see $DIR/server.log"; tail -n 20 "$DIR/server.log" >&2 || true; exit 1; }
fi

if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi

URL="postgres://postgres@127.0.0.1:$PORT/$DB"
log "ready: $URL"
echo "export SWITCHBOARD_TEST_POSTGRES_URL=$URL"
