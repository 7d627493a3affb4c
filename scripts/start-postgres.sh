#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server (Debian's `postgresql` package, no Docker) for the
# helpdesk-store-postgres tests and prints the environment to use it:
#
#   eval "$(scripts/start-postgres.sh)"   # exports DATABASE_URL, HELPDESK_POSTGRES_URL, HELPDESK_PG_DATA
#   cargo test -p helpdesk-store-postgres
#   scripts/stop-postgres.sh
#
# The cluster is created with `initdb` (superuser `postgres`, trust authentication; the
# server listens on 127.0.0.1 only) in ${HELPDESK_CACHE:-~/.cache/helpdesk}/postgres-<port>
# and kept between runs (every test makes its own database or schema); a server already
# running on that folder is reused. Run as root, the server runs as the `postgres` user
# (initdb and postgres refuse root); when that user cannot reach the cache folder (a home
# folder closed to others, as /root is) the cluster goes to ${TMPDIR:-/tmp} instead.
# Only the `export` lines go to stdout; progress and errors go to stderr.
# Environment: HELPDESK_PG_PORT (this port instead of 55432 or, when taken, a free one),
# HELPDESK_PG_WAIT_SECONDS (start-up wait, default 60), HELPDESK_PG_FSYNC (on/off, default
# off: a test server whose data is disposable need not wait for the disk; benchmarks that
# should count fsyncs set it to on).
set -euo pipefail
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
say() { echo "start-postgres: $*" >&2; }

# The server binaries: on PATH, else Debian's versioned folder, else install the package.
find_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    # Resolved, so pg_isready and friends are found next to it (PATH may hold symlinks).
    dirname "$(readlink -f "$(command -v initdb)")"
  fi
}
bin="$(find_bin || true)"
if [ -z "$bin" ]; then
  say "PostgreSQL not found; installing Debian's postgresql package"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql >&2
  bin="$(find_bin || true)"
  [ -n "$bin" ] || { say "initdb/pg_ctl still missing after installing postgresql"; exit 1; }
fi

# A stable port when free (so HELPDESK_POSTGRES_URL stays the same between runs), else any.
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
for candidate in (int(sys.argv[1]), 0):
    s = socket.socket()
    # As the server binds: a port left in TIME_WAIT by a server just stopped is free.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", candidate))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}

# Who runs the server: the current user, or `postgres` when we are root.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql \
    --shell /bin/bash postgres
  as_server() { runuser -u postgres -- "$@"; }
else
  as_server() { "$@"; }
fi

# Our cluster of a port: under the cache folder, or under the temp folder when the server
# user cannot reach the cache (see above).
cluster_of() {
  local d
  for d in "$cache/postgres-$1" "${TMPDIR:-/tmp}/helpdesk-postgres-$1"; do
    [ -f "$d/PG_VERSION" ] && { echo "$d"; return; }
  done
}
running() { [ -n "$1" ] && [ -f "$1/postmaster.pid" ] && as_server "$bin/pg_ctl" -D "$1" status >/dev/null 2>&1; }

# The port: HELPDESK_PG_PORT, else 55432. A server of ours already running there is reused;
# a port taken by something else is an error when asked for, else another free port is used.
port="${HELPDESK_PG_PORT:-55432}"
data="$(cluster_of "$port" || true)"
if ! running "$data"; then
  if [ "$(free_port "$port")" != "$port" ]; then
    if [ -n "${HELPDESK_PG_PORT:-}" ]; then
      say "port $port is taken by another program (HELPDESK_PG_PORT)"
      exit 1
    fi
    port="$(free_port 0)"
    data="$(cluster_of "$port" || true)"
  fi
  if [ -z "$data" ]; then
    data="$cache/postgres-$port"
    mkdir -p "$cache"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$cache"; then
      data="${TMPDIR:-/tmp}/helpdesk-postgres-$port"
      say "the postgres user cannot reach $cache; the cluster goes to $data"
    fi
  fi
fi

if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"
  mkdir -p "$data"
  chmod 700 "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
  say "initdb into $data"
  as_server "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$data.initdb.log" 2>&1 || {
    cat "$data.initdb.log" >&2
    exit 1
  }
fi

fsync="${HELPDESK_PG_FSYNC:-off}"
if running "$data"; then
  say "PostgreSQL already running on $data"
else
  # The socket goes into the data folder (the server user owns it; no /var/run needed).
  as_server "$bin/pg_ctl" -D "$data" -l "$data/server.log" \
    -w -t "${HELPDESK_PG_WAIT_SECONDS:-60}" \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=300" \
    start >&2 || {
    say "server log ($data/server.log):"
    tail -n 40 "$data/server.log" >&2 || true
    exit 1
  }
fi
"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t "${HELPDESK_PG_WAIT_SECONDS:-60}" || {
  say "no answer on 127.0.0.1:$port"
  exit 1
}
say "PostgreSQL ready on 127.0.0.1:$port (data in $data)"
url="postgres://postgres@127.0.0.1:$port/postgres"
echo "export DATABASE_URL='$url'"
echo "export HELPDESK_POSTGRES_URL='$url'"
echo "export HELPDESK_PG_DATA='$data'"
