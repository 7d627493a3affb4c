#!/usr/bin/env bash
# Fetches the fitz-gov benchmark (PyPI package `fitz-gov`, MIT licence, Fitz AI) once, for
# `helpdesk-eval fitz-gov`: downloads the pinned wheel with pip (no dependencies, no install),
# checks its SHA-256, and unpacks it under ${HELPDESK_CACHE:-~/.cache/helpdesk}/fitz-gov/<version>.
# Prints the data folder (tier0_sanity/, tier1_core/) on stdout; progress and errors on stderr.
# Usage: helpdesk-eval fitz-gov --data "$(scripts/fetch-fitz-gov.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="4.1.0"
wheel="fitz_gov-${version}-py3-none-any.whl"
sha256="5ad53b20774a41ce2c6d8f0a360fb406bbfe52bbb522449121eaae803b1a671a"
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
out="$cache/fitz-gov/$version"
data="$out/fitz_gov/data"

mkdir -p "$cache/fitz-gov"
exec 7>"$cache/fitz-gov/.fetch.lock"
flock 7
if [ -f "$out/.sha256" ] && [ "$(cat "$out/.sha256")" = "$sha256" ] && [ -d "$data/tier1_core" ]; then
  echo "$data"
  exit 0
fi
"$here/python-env.sh" >&2
python="$cache/venv/bin/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-fitz-gov: downloading fitz-gov==$version from PyPI" >&2
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  "fitz-gov==$version" -d "$tmp" >&2
got="$(sha256sum "$tmp/$wheel" | awk '{print $1}')"
if [ "$got" != "$sha256" ]; then
  echo "fetch-fitz-gov: $wheel has SHA-256 $got, expected $sha256" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
"$python" -m zipfile -e "$tmp/$wheel" "$out"
printf '%s' "$sha256" > "$out/.sha256"
echo "$data"
