#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing (browser downloads are not possible).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "chromium is missing and this user cannot install it (need root or sudo): apt-get install chromium" >&2; exit 1; }
  SUDO="sudo"
fi
echo "Installing Debian's chromium for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium
