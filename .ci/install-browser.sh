#!/usr/bin/env bash
# Install Debian's Chromium for the browser end-to-end test (tests/test_e2e_browser.py).
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there.
# Playwright drives this system browser; `playwright install` (which downloads its own) is not used.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null

if [ ! -x /usr/bin/chromium ]; then
    echo "install-browser: /usr/bin/chromium is still missing after installing the 'chromium' package" >&2
    exit 1
fi
echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
