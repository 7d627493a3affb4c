#!/usr/bin/env bash
# Stops the server started by scripts/start-dovecot.sh (the state folder stays, for the next run).
# Usage: scripts/stop-dovecot.sh [STATE_DIR]   (default: $HELPDESK_DOVECOT_DIR, else the state
# folder of $HELPDESK_IMAP_PORT (default 14143) under ${HELPDESK_CACHE:-~/.cache/helpdesk}/run
# or ${TMPDIR:-/tmp}). Only the Dovecot master of that folder's configuration is stopped (by the
# pid file in its base_dir), never another Dovecot on the machine.
# HELPDESK_DOVECOT_REMOVE=1 also deletes the state folder.
set -euo pipefail
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
state="${1:-${HELPDESK_DOVECOT_DIR:-}}"
if [ -z "$state" ]; then
  port="${HELPDESK_IMAP_PORT:-14143}"
  for d in "$cache/run/dovecot-$port" "${TMPDIR:-/tmp}/helpdesk-dovecot-$port"; do
    [ -f "$d/dovecot.conf" ] && state="$d" && break
  done
fi
if [ -z "$state" ] || [ ! -f "$state/dovecot.conf" ]; then
  echo "stop-dovecot: no state folder (pass it or set HELPDESK_DOVECOT_DIR or HELPDESK_IMAP_PORT)" >&2
  exit 1
fi
pid_file="$state/run/master.pid"
if [ -f "$pid_file" ]; then
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dovecot "/proc/$pid/comm" 2>/dev/null; then
    # The master stops its children and removes the pid file.
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop-dovecot: master $pid still running after 10 s" >&2
      exit 1
    fi
  fi
fi
if [ "${HELPDESK_DOVECOT_REMOVE:-0}" = 1 ]; then
  case "$state" in
    */dovecot-*|*/helpdesk-dovecot-*) rm -rf "$state" ;;
  esac
fi
echo "stop-dovecot: stopped" >&2
