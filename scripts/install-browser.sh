#!/usr/bin/env bash
# Install Debian's headless Chromium and its WebDriver for the browser tests
# (tests/browser/), unless both are there already. Needs root (apt-get); CI runs as root.
# No browser build is downloaded from anywhere else: Selenium is pointed at these binaries.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    echo "chromium and chromedriver already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser.sh: run as root (apt-get install chromium chromium-driver)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "installed: $(chromium --version)"
