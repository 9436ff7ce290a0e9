#!/usr/bin/env bash
# System packages: by default those the tests need: Chromium (browser tests of the review app), Pango and
# fonts (PDF export), PostgreSQL (the app on PostgreSQL); or the ones named as arguments (the Makefile's
# `jemalloc` target: libjemalloc2, for training). Installed with apt-get when missing and running as
# root; otherwise this says what to install, and what needs them is skipped (tests, with a reason) or runs
# without them (training on glibc's malloc).
set -u
if [ $# -gt 0 ]; then pkgs=("$@"); else pkgs=(chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core postgresql); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "apt-get could not install: ${missing[*]}; what needs them is skipped or runs without them" >&2; exit 0; }
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  echo "(until then what needs them is skipped, or runs without them)" >&2
fi
exit 0
