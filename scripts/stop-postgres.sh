#!/usr/bin/env bash
# Stops the server started by scripts/start-postgres.sh (the cluster stays, for the next run).
# Usage: scripts/stop-postgres.sh [DATA_DIR]   (default: $HELPDESK_PG_DATA, else the
# cluster of $HELPDESK_PG_PORT under ${HELPDESK_CACHE:-~/.cache/helpdesk} or ${TMPDIR:-/tmp}).
# HELPDESK_PG_REMOVE=1 also deletes the cluster.
set -euo pipefail
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
data="${1:-${HELPDESK_PG_DATA:-}}"
if [ -z "$data" ] && [ -n "${HELPDESK_PG_PORT:-}" ]; then
  for d in "$cache/postgres-$HELPDESK_PG_PORT" "${TMPDIR:-/tmp}/helpdesk-postgres-$HELPDESK_PG_PORT"; do
    [ -f "$d/PG_VERSION" ] && data="$d" && break
  done
fi
if [ -z "$data" ] || [ ! -f "$data/PG_VERSION" ]; then
  echo "stop-postgres: no cluster (pass its folder or set HELPDESK_PG_DATA or HELPDESK_PG_PORT)" >&2
  exit 1
fi
pg_ctl="$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)"
[ -n "$pg_ctl" ] || pg_ctl="$(readlink -f "$(command -v pg_ctl)" 2>/dev/null || true)"
[ -x "$pg_ctl" ] || { echo "stop-postgres: pg_ctl not found" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  as_server() { runuser -u postgres -- "$@"; }
else
  as_server() { "$@"; }
fi
if as_server "$pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # Fast shutdown: open sessions are ended, the cluster stays consistent.
  as_server "$pg_ctl" -D "$data" -m fast -w stop >&2
fi
if [ "${HELPDESK_PG_REMOVE:-0}" = 1 ]; then
  case "$data" in
    */postgres-*|*/helpdesk-postgres-*) rm -rf "$data" "$data.initdb.log" ;;
  esac
fi
echo "stop-postgres: stopped" >&2
