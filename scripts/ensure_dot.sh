#!/bin/sh
# Graphviz's `dot` renders the graphs. Install it with apt-get when it is missing and we can;
# otherwise say exactly what is missing (drawing still produces DOT source without it).
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
echo "Graphviz 'dot' not found; trying to install the Debian package 'graphviz'..."
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1; then
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz) >/dev/null 2>&1
fi
if command -v dot >/dev/null 2>&1; then
  echo "Installed Graphviz: $(dot -V 2>&1)"
  exit 0
fi
echo "ERROR: Graphviz 'dot' is missing and could not be installed automatically." >&2
echo "       Install it yourself: 'apt-get install graphviz' (Debian/Ubuntu)," >&2
echo "       'brew install graphviz' (macOS) or 'conda install graphviz'." >&2
exit 1
