#!/usr/bin/env bash
# Installs the Debian packages the SIP and browser tests drive, when they are missing.
# Non-interactive; when not root and packages are missing, says what to install and fails.
set -euo pipefail
declare -A need=(
  [sipp]=sip-tester
  [kamailio]=kamailio
  [baresip]=baresip-core
  [svwar]=sipvicious
  [chromium]=chromium
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages the tests need: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run  sudo apt-get install -y ${missing[*]}  and try again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
