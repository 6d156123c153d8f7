#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (as root or with sudo).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
echo "browser-up: installing Debian's chromium package for the browser tests" >&2
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
