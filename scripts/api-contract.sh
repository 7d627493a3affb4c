#!/usr/bin/env bash
# The HTTP API's contract check: starts the demo API server (seeded tenant, admin token),
# validates its OpenAPI document with openapi-spec-validator, then runs schemathesis
# against it. Fails on any server error (5xx) or any response that does not match the
# document. Usage: scripts/api-contract.sh <serve_demo binary>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}/venv"
bin="$1"
work="$(mktemp -d)"
"$bin" 0 "$work/demo.db" > "$work/server.out" 2> "$work/server.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  grep -q '^HELPDESK_API_TOKEN=' "$work/server.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; echo "demo server died" >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/^HELPDESK_API_URL=//p' "$work/server.out")"
token="$(sed -n 's/^HELPDESK_API_TOKEN=//p' "$work/server.out")"
[ -n "$url" ] && [ -n "$token" ] || { echo "demo server printed no URL or token" >&2; exit 1; }

echo "openapi-spec-validator: $url/openapi.json"
"$venv/bin/python" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "$url/openapi.json" > "$work/openapi.json"
if ! "$venv/bin/openapi-spec-validator" --schema 3.1 "$work/openapi.json" > "$work/validator.out" 2>&1; then
  cut -c1-600 "$work/validator.out" >&2
  exit 1
fi

echo "schemathesis: $url"
# Logging out would end the token the run uses, and the event stream never ends (its own
# tests cover it); every other operation is exercised. One worker: with two, Hypothesis
# parses lambda sources in both threads at once, which CPython 3.11's `ast.parse` does not
# survive (`SystemError: AST constructor recursion depth mismatch`, a CPython 3.11 bug),
# and schemathesis reports that as a runtime error of whichever operation it was on.
"$venv/bin/schemathesis" run "$url/openapi.json" --url "$url" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --exclude-path /auth/logout --exclude-path /events \
  --max-examples "${HELPDESK_SCHEMATHESIS_EXAMPLES:-50}" \
  --workers 1 \
  --seed 1 \
  --no-color
if grep -q 'panicked' "$work/server.err"; then
  grep -B2 -A10 'panicked' "$work/server.err" >&2
  echo "the server panicked during the run" >&2
  exit 1
fi
