#!/usr/bin/env bash
# Install the headless browser the web chat and console tests drive: Debian's chromium and its
# WebDriver (chromium-driver, /usr/bin/chromedriver). From apt only; no browser downloads.
# Idempotent.
#
#   scripts/install-browser.sh            # install what is missing (needs root)
#   scripts/install-browser.sh --check    # report what is missing, exit 1 if anything is
set -euo pipefail

PACKAGES=(chromium chromium-driver fonts-dejavu-core)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-browser: ${PACKAGES[*]} present"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "install-browser: missing: ${missing[*]} (run: sudo scripts/install-browser.sh)"
  exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-browser: apt-get install ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
