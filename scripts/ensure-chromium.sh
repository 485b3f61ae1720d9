#!/usr/bin/env bash
# The web app's end-to-end tests drive Debian's Chromium (browsers cannot be downloaded here).
# Installs it when it is missing and we may (root with apt-get); otherwise fails loudly, so a
# run without a browser never passes by skipping the e2e suite.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: $chromium is missing; installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
if [ ! -x "$chromium" ]; then
  cat >&2 <<MESSAGE
ensure-chromium: FAILED: no Chromium at $chromium, and it could not be installed.
  The end-to-end tests of apps/web need it. Install it (as root: apt-get install -y chromium),
  or point CHROMIUM_PATH at a Chromium or Chrome binary.
MESSAGE
  exit 1
fi
