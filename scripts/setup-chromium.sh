#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver (Debian packages `chromium` and
# `chromium-driver`) for the browser end-to-end test (examples/tests/browser.rs).
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are there.
# Needs root (or sudo) and apt access; never downloads a browser from anywhere else.
# Usage: scripts/setup-chromium.sh
# Progress goes to stderr; stdout stays empty.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup-chromium: need root or sudo to install chromium and chromium-driver" >&2
  exit 1
fi

echo "setup-chromium: installing chromium and chromium-driver with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update >&2
"${sudo[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >&2

for bin in /usr/bin/chromium /usr/bin/chromedriver; do
  if [ ! -x "$bin" ]; then
    echo "setup-chromium: $bin is still missing after apt-get install" >&2
    exit 1
  fi
done
echo "setup-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(/usr/bin/chromedriver --version 2>/dev/null | head -n 1)" >&2
