#!/usr/bin/env bash
# Starts a throwaway SecantusDB server (MongoDB wire protocol, WiredTiger storage) for the
# helpdesk-store-mongo tests and prints the environment to use it:
#
#   eval "$(scripts/start-mongo.sh)"      # exports MONGODB_URI and HELPDESK_MONGO_PIDFILE
#   cargo test -p helpdesk-store-mongo
#   scripts/stop-mongo.sh
#
# The server listens on 127.0.0.1 (port 27117 when free, else a free one), keeps its data in a
# fresh temporary directory, and is stopped (data removed) by scripts/stop-mongo.sh. Only the
# `export` lines go to stdout; progress and errors go to stderr. Retryable writes are switched off in the
# URI (SecantusDB is slow with them; the store does not rely on them).
# Environment: HELPDESK_MONGO_PORT (this port instead of 27117 or, when taken, a free one),
# HELPDESK_MONGO_WAIT_SECONDS (how long to wait for ping, default 60).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
venv="$cache/venv"
"$here/python-env.sh"
python="$venv/bin/python"
server="$venv/bin/secantusd-py"
[ -x "$server" ] || { echo "start-mongo: $server missing (see scripts/requirements.txt)" >&2; exit 1; }

# A stable port when it is free (so MONGODB_URI, which the crate's build script watches,
# stays the same between runs and cargo does not rebuild), else any free port.
port="${HELPDESK_MONGO_PORT:-}"
if [ -z "$port" ]; then
  port="$("$python" - <<'PY'
import socket
for candidate in (27117, 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", candidate))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
)"
fi
workdir="$(mktemp -d "${TMPDIR:-/tmp}/helpdesk-mongo.XXXXXX")"
log="$workdir/server.log"
pidfile="$workdir/server.pid"

# setsid: the server gets its own process group, so stop-mongo.sh can end it and its children.
setsid "$server" --host 127.0.0.1 --port "$port" --storage-path "$workdir/data" \
  --log-level WARNING >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

uri="mongodb://127.0.0.1:$port/?retryWrites=false"
wait_seconds="${HELPDESK_MONGO_WAIT_SECONDS:-60}"
if ! "$python" - "$uri" "$wait_seconds" "$(cat "$pidfile")" >&2 <<'PY'
import os, sys, time
from pymongo import MongoClient
from pymongo.errors import PyMongoError
uri, wait, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + wait
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("start-mongo: the server exited during start-up")
    try:
        MongoClient(uri, serverSelectionTimeoutMS=1000).admin.command("ping")
        break
    except PyMongoError:
        if time.monotonic() > deadline:
            sys.exit(f"start-mongo: no ping answer within {wait:.0f} s")
        time.sleep(0.2)
PY
then
  echo "start-mongo: server log ($log):" >&2
  tail -n 40 "$log" >&2 || true
  kill -- "-$(cat "$pidfile")" 2>/dev/null || true
  exit 1
fi
echo "start-mongo: SecantusDB ready on 127.0.0.1:$port (data in $workdir)" >&2
echo "export MONGODB_URI='$uri'"
echo "export HELPDESK_MONGO_PIDFILE='$pidfile'"
