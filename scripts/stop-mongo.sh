#!/usr/bin/env bash
# Stops the server started by scripts/start-mongo.sh and removes its temporary directory.
# Usage: scripts/stop-mongo.sh [PIDFILE]   (default: $HELPDESK_MONGO_PIDFILE)
set -euo pipefail
pidfile="${1:-${HELPDESK_MONGO_PIDFILE:-}}"
if [ -z "$pidfile" ] || [ ! -f "$pidfile" ]; then
  echo "stop-mongo: no pid file (pass it or set HELPDESK_MONGO_PIDFILE)" >&2
  exit 1
fi
pid="$(cat "$pidfile")"
workdir="$(dirname "$pidfile")"
case "$pid" in ''|*[!0-9]*) echo "stop-mongo: bad pid file $pidfile" >&2; exit 1 ;; esac
# The server runs in its own process group (setsid in start-mongo.sh).
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
fi
case "$workdir" in
  */helpdesk-mongo.*) rm -rf "$workdir" ;;
esac
echo "stop-mongo: stopped" >&2
