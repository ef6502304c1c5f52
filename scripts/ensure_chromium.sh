#!/bin/sh
# The browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright. Install the
# package with apt-get when it is missing and we can; otherwise say exactly what is missing.
# (Never `playwright install`: it downloads a browser from outside the package registries.)
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Chromium not found at /usr/bin/chromium; trying to install the Debian package 'chromium'..."
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1; then
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium) >/dev/null 2>&1
fi
if [ -x /usr/bin/chromium ]; then
  echo "Installed $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi
echo "ERROR: Chromium is missing at /usr/bin/chromium and could not be installed automatically." >&2
echo "       Install Debian's package yourself: 'apt-get install chromium'." >&2
exit 1
