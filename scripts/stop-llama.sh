#!/usr/bin/env bash
# Stops the server started by scripts/start-llama.sh (the built wheel, the virtualenv and the
# model stay cached for the next run).
# Usage: scripts/stop-llama.sh [PIDFILE]   (default: $HELPDESK_LLAMA_PIDFILE, else the pidfile
# of ${HELPDESK_LLAMA_PORT:-58080} under ${HELPDESK_CACHE:-~/.cache/helpdesk}).
set -euo pipefail
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
pidfile="${1:-${HELPDESK_LLAMA_PIDFILE:-$cache/llama-${HELPDESK_LLAMA_PORT:-58080}.pid}}"
if [ ! -f "$pidfile" ]; then
  echo "stop-llama: no pidfile $pidfile (pass it or set HELPDESK_LLAMA_PIDFILE)" >&2
  exit 1
fi
pid="$(cat "$pidfile")"
# Only our server: the pid must still be a llama_cpp.server process.
if kill -0 "$pid" 2>/dev/null && grep -q 'llama_cpp.server' "/proc/$pid/cmdline" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
echo "stop-llama: stopped" >&2
