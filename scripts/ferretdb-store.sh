#!/usr/bin/env bash
# Starts a throw-away MongoDB wire-protocol store for tests and the bench: FerretDB v1.24.2 on
# PostgreSQL (default; Debian's `postgresql`, a cluster of its own in a temporary directory) or on SQLite.
#   source scripts/ferretdb-store.sh [postgresql|sqlite]   -> exports MONGODB_URI, STORE_DIR, STORE_PIDS
#   ferretdb_store_stop                                     -> stops what it started and removes the directory
# FerretDB is built once from the Go module proxy (scripts/build-ferretdb.sh) and cached.
# Postgres runs with fsync off: the data is thrown away, and the store's speed is what we measure.

FERRET_VERSION=v1.24.2
_store_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_store_cache="${XDG_CACHE_HOME:-$HOME/.cache}/reward-platform"
mkdir -p "$_store_cache"

_free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

_wait_port() { # port pid logfile
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then cat "$3" >&2; return 1; fi
    sleep 0.1
  done
  cat "$3" >&2
  return 1
}

_pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "store: installing Debian's postgresql" >&2
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    else
      echo "store: PostgreSQL is not installed (apt-get install postgresql), or use: bash ${BASH_SOURCE[0]} sqlite" >&2
      return 1
    fi
  fi
  echo "$dir"
}

# Runs a PostgreSQL command as the cluster's owner (initdb and postgres refuse to run as root).
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ferretdb_store_start() {
  local backend="${1:-postgresql}"
  local ferret_bin="$_store_cache/ferretdb-$FERRET_VERSION"
  "$_store_root/scripts/build-ferretdb.sh" "$FERRET_VERSION" "$ferret_bin" >&2 || return 1
  STORE_DIR="$(mktemp -d)"
  STORE_PIDS=""
  local ferret_port
  ferret_port="$(_free_port)"
  local handler_args
  if [ "$backend" = postgresql ]; then
    local pg_bin pg_port
    pg_bin="$(_pg_bin)" || return 1
    pg_port="$(_free_port)"
    [ "$(id -u)" = 0 ] && chown postgres "$STORE_DIR"
    _as_pg "$pg_bin/initdb" -D "$STORE_DIR/pg" -A trust -U postgres --no-sync >"$STORE_DIR/initdb.log" 2>&1 ||
      { cat "$STORE_DIR/initdb.log" >&2; return 1; }
    # Enough connections for FerretDB's pool below (the default 100 is not).
    _as_pg "$pg_bin/pg_ctl" -D "$STORE_DIR/pg" -l "$STORE_DIR/pg.log" -w -t 120 start -o \
      "-p $pg_port -k $STORE_DIR -c listen_addresses=127.0.0.1 -c max_connections=500 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null || { cat "$STORE_DIR/pg.log" >&2; return 1; }
    _as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres ferretdb || return 1
    STORE_PG_CTL="$pg_bin/pg_ctl"
    # FerretDB's own pool to PostgreSQL (50 connections unless told) is raised to near max_connections: in v1.24.2 a
    # collection being created holds FerretDB's metadata lock while it waits for a pooled connection, and requests
    # holding the pool's connections wait for that lock, so with the pool exhausted (a burst of 100+ commands at once,
    # two servers' driver pools of 100) the first createCollection (a test app starting) wedged the whole store:
    # every PostgreSQL connection idle, every command hanging, for good. With 450 it takes 450
    # commands at once (the driver's pool is 100 per process: a stack's three servers and a test run's apps).
    handler_args=(--handler=postgresql "--postgresql-url=postgres://postgres@127.0.0.1:$pg_port/ferretdb?pool_max_conns=450")
  elif [ "$backend" = sqlite ]; then
    handler_args=(--handler=sqlite "--sqlite-url=file:$STORE_DIR/")
  else
    echo "store: unknown backend '$backend' (postgresql or sqlite)" >&2
    return 1
  fi
  "$ferret_bin" "${handler_args[@]}" --state-dir="$STORE_DIR" --listen-addr="127.0.0.1:$ferret_port" \
    --telemetry=disable --log-level=warn --debug-addr=- >"$STORE_DIR/ferretdb.log" 2>&1 &
  STORE_PIDS="$!"
  _wait_port "$ferret_port" "$STORE_PIDS" "$STORE_DIR/ferretdb.log" || { echo "store: FerretDB did not start" >&2; return 1; }
  export MONGODB_URI="mongodb://127.0.0.1:$ferret_port/"
  export STORE_BACKEND="$backend"
  echo "store: FerretDB $FERRET_VERSION ($backend) on $MONGODB_URI" >&2
}

ferretdb_store_stop() {
  if [ -n "${STORE_PIDS:-}" ]; then
    kill $STORE_PIDS 2>/dev/null || true
    wait $STORE_PIDS 2>/dev/null || true
  fi
  if [ -n "${STORE_PG_CTL:-}" ] && [ -d "${STORE_DIR:-}/pg" ]; then
    _as_pg "$STORE_PG_CTL" -D "$STORE_DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${STORE_DIR:-}" ] && rm -rf "$STORE_DIR"
  STORE_PIDS=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run directly: start the store, print its URI, keep it until Ctrl-C.
  set -euo pipefail
  ferretdb_store_start "${1:-postgresql}"
  trap ferretdb_store_stop EXIT
  trap 'exit 0' INT TERM
  echo "MONGODB_URI=$MONGODB_URI"
  # The line above only shows the value: pasted as it is, it is not exported, and `npm start` (a new process)
  # would not see it. This one is ready to paste. Its name is quoted so that the line does not contain
  # "MONGODB_URI=": scripts that take the URI with `grep MONGODB_URI= | cut -d= -f2-` still find one line.
  # No comment on the pasted line itself: zsh, as macOS starts it, takes `#` there for an argument.
  echo "To use it in a shell of your own, paste the next line there, then run npm start in it:"
  echo "export \"MONGODB_URI\"=$MONGODB_URI"
  wait
fi
